using System.Text.Json;
using Ctm.Contracts;
using Ctm.Data.Parsing;
using Ctm.Ingest.Batches;
using Ctm.Ingest.Extensions;
using Ctm.Ingest.Storage;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Ctm.Ingest.Consumers;

/// <summary>
/// Takes plain JSON row events off the row exchange and commits them as pending rows; the batcher cuts them
/// into batches. A row event is acknowledged only once its rows are committed. An event's id (its <c>eventId</c>, else
/// the AMQP message id, whatever its form) is remembered for <see cref="RowEventOptions.DedupeWindowHours"/>, so a
/// repeat is stored once even after its rows were cut into a batch. Malformed events, and events beyond the limits,
/// are refused with their reason and not retried (<see cref="TabularFormatException"/> is a permanent failure): they go
/// to the error queue at once.
/// </summary>
public sealed class RowEventConsumer(IngestDbContext db, IOptions<IngestOptions> options) : IConsumer<RowEvent>
{
    public async Task Consume(ConsumeContext<RowEvent> context)
    {
        var message = context.Message;
        var limits = options.Value.Limits;
        var transportId = context.ReceiveContext.TryGetPayload<RabbitMqBasicConsumeContext>(out var rabbit) ? rabbit.Properties.MessageId : null;
        var eventId = message.EventId ?? transportId ?? context.MessageId?.ToString();
        var source = $"row event {eventId ?? "(no id)"}";
        if (context.ReceiveContext.Body.Length is var size && size > limits.MaxEventBytes)
        {
            throw new TabularFormatException(
                $"the event is {size} bytes; the limit is {limits.MaxEventBytes} (setting Ingest:Limits:MaxEventBytes)", source, 1, 1, limit: nameof(IngestLimits.MaxEventBytes));
        }

        if (DatasetName.Problem(message.Dataset) is { } problem)
        {
            throw new TabularFormatException(problem, source, 1, 1, "dataset");
        }

        if (UpstreamName.Problem(message.Source) is { } sourceProblem)
        {
            throw new TabularFormatException(sourceProblem, source, 1, 1, "source");
        }

        var rows = message.Rows ?? (message.Row is null ? [] : [message.Row]);
        if (rows.Count == 0)
        {
            throw new TabularFormatException("the event has neither 'row' nor 'rows'", source, 1, 1);
        }

        // Parse every row first, so a bad row refuses the whole event, with its reason, before anything is written.
        var tabular = limits.ToTabular();
        var json = new List<string>(rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            var element = JsonSerializer.SerializeToElement(rows[i]);
            JsonLinesReader.ReadObject(element, source, i + 1, tabular);
            json.Add(element.GetRawText());
        }

        var key = eventId ?? NewId.NextGuid().ToString();
        await using var tx = await db.Database.BeginTransactionAsync(context.CancellationToken);
        var first = await db.Database.ExecuteSqlAsync(
            $"INSERT INTO ingest.row_event_keys (event_key) VALUES ({key}) ON CONFLICT (event_key) DO NOTHING", context.CancellationToken);
        if (first == 0)
        {
            return;
        }

        for (var i = 0; i < json.Count; i++)
        {
            var eventKey = json.Count == 1 && message.Rows is null ? key : $"{key}#{i}";
            await db.Database.ExecuteSqlAsync(
                $"INSERT INTO ingest.pending_rows (dataset, event_key, row, upstream) VALUES ({message.Dataset}, {eventKey}, {json[i]}::jsonb, {message.Source}) ON CONFLICT (event_key) DO NOTHING",
                context.CancellationToken);
        }

        await tx.CommitAsync(context.CancellationToken);
    }
}
