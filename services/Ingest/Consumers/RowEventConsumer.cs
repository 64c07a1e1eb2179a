using System.Text.Json;
using Ctm.Contracts;
using Ctm.Data.Parsing;
using Ctm.Ingest.Batches;
using Ctm.Ingest.Storage;
using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace Ctm.Ingest.Consumers;

/// <summary>
/// Takes plain JSON row events off the row exchange and commits them as pending rows; the batcher cuts them
/// into batches. A row event is acknowledged only once its rows are committed; a repeated event id is stored once.
/// Malformed events are not retried (they would fail the same way) and go to the error queue.
/// </summary>
public sealed class RowEventConsumer(IngestDbContext db) : IConsumer<RowEvent>
{
    public async Task Consume(ConsumeContext<RowEvent> context)
    {
        var message = context.Message;
        var source = $"row event {message.EventId ?? context.MessageId?.ToString() ?? "(no id)"}";
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

        var key = message.EventId ?? context.MessageId?.ToString() ?? NewId.NextGuid().ToString();
        await using var tx = await db.Database.BeginTransactionAsync(context.CancellationToken);
        for (var i = 0; i < rows.Count; i++)
        {
            // Parse once here so a bad row is refused now, with its reason, not later inside a batch.
            var json = JsonSerializer.SerializeToElement(rows[i]);
            JsonLinesReader.ReadObject(json, source, i + 1);
            var eventKey = rows.Count == 1 && message.Rows is null ? key : $"{key}#{i}";
            await db.Database.ExecuteSqlAsync(
                $"INSERT INTO ingest.pending_rows (dataset, event_key, row, upstream) VALUES ({message.Dataset}, {eventKey}, {json.GetRawText()}::jsonb, {message.Source}) ON CONFLICT (event_key) DO NOTHING",
                context.CancellationToken);
        }

        await tx.CommitAsync(context.CancellationToken);
    }
}
