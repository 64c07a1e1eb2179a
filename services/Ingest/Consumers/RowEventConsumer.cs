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
        var transportId = context.ReceiveContext.TryGetPayload<RabbitMqBasicConsumeContext>(out var rabbit) ? rabbit.Properties.MessageId : null;
        var eventId = message.EventId ?? transportId ?? context.MessageId?.ToString();
        var checkedEvent = RowEventReader.Check(message, context.ReceiveContext.Body.Length ?? 0, eventId, options.Value.Limits);
        var json = checkedEvent.Rows;
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
            var eventKey = json.Count == 1 && checkedEvent.Single ? key : $"{key}#{i}";
            await db.Database.ExecuteSqlAsync(
                $"INSERT INTO ingest.pending_rows (dataset, event_key, row, upstream) VALUES ({message.Dataset}, {eventKey}, {json[i]}::jsonb, {message.Source}) ON CONFLICT (event_key) DO NOTHING",
                context.CancellationToken);
        }

        await tx.CommitAsync(context.CancellationToken);
    }
}
