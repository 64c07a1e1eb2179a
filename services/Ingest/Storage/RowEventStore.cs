using Ctm.Ingest.Batches;
using Microsoft.EntityFrameworkCore;

namespace Ctm.Ingest.Storage;

/// <summary>Row events' rows waiting to be cut into batches, and the event keys that keep a repeated event to one effect.</summary>
public sealed class RowEventStore(IngestDbContext db)
{
    /// <summary>
    /// Commits an event's rows as pending rows, once per event key: a repeat of a remembered key changes nothing.
    /// Each row is keyed by the event key (with its index when the event carries several), so a row is stored once.
    /// </summary>
    /// <returns>False when the event key was already recorded.</returns>
    public async Task<bool> RecordAsync(CheckedRowEvent rowEvent, string eventKey, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(rowEvent);
        var rows = rowEvent.Rows;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var first = await db.Database.ExecuteSqlAsync(
            $"INSERT INTO ingest.row_event_keys (event_key) VALUES ({eventKey}) ON CONFLICT (event_key) DO NOTHING", ct);
        if (first == 0)
        {
            return false;
        }

        for (var i = 0; i < rows.Count; i++)
        {
            var rowKey = rows.Count == 1 && rowEvent.Single ? eventKey : $"{eventKey}#{i}";
            await db.Database.ExecuteSqlAsync(
                $"INSERT INTO ingest.pending_rows (dataset, event_key, row, upstream) VALUES ({rowEvent.Dataset}, {rowKey}, {rows[i]}::jsonb, {rowEvent.Upstream}) ON CONFLICT (event_key) DO NOTHING",
                ct);
        }

        await tx.CommitAsync(ct);
        return true;
    }
}
