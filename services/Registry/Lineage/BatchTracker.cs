using Ctm.Contracts;
using Ctm.Registry.Storage;
using Ctm.ServiceDefaults.Http;
using Ctm.ServiceDefaults.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Ctm.Registry.Lineage;

/// <summary>What an event tells about a batch besides its status.</summary>
public sealed record BatchFacts(
    long? RowCount = null, string? Sha256 = null, string? RowsLocation = null, int? SchemaVersion = null, DateTimeOffset? IngestedAt = null, string? Upstream = null);

/// <summary>
/// Keeps each batch's status and its history. Events arrive on separate queues, so out of order: the history keeps
/// every event once, the current status follows the newest event time, and <c>corrupt</c> is final.
/// </summary>
public sealed class BatchTracker(RegistryDbContext db, IOptions<ServiceUrls> urls)
{
    /// <summary>
    /// Records the acceptance (or release) and keeps the dataset's newest schema (what uploaded models are mapped onto);
    /// an older schema version arriving late does not replace a newer one.
    /// </summary>
    public async Task RecordAcceptedAsync(BatchAccepted m, CancellationToken ct)
    {
        await RecordAsync(m.Dataset, m.BatchId, m.Released ? BatchState.Released : BatchState.Accepted, m.AcceptedAt, null, new { m.SchemaVersion },
            new BatchFacts(m.RowCount, m.Sha256, m.Location, m.SchemaVersion), ct);
        List<ColumnSpec> features = [.. m.Features];
        await db.Datasets.Where(d => d.Name == m.Dataset && (d.SchemaVersion == null || d.SchemaVersion <= m.SchemaVersion))
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.SchemaVersion, m.SchemaVersion).SetProperty(d => d.Features, features)
                .SetProperty(d => d.LabelColumn, m.LabelColumn).SetProperty(d => d.Task, m.Task), ct);
    }

    public async Task RecordAsync(string dataset, Guid batchId, BatchState state, DateTimeOffset at, string? actor, object? details, BatchFacts? facts, CancellationToken ct)
    {
        facts ??= new BatchFacts();
        var status = EnumText<BatchState>.Name(state);
        var statistics = urls.Value.Validator is { } validator ? new Uri(validator, $"v1/batches/{batchId}").ToString() : null;
        var detailsJson = JsonColumns.Text(details);
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO registry.datasets (name) VALUES ({dataset}) ON CONFLICT DO NOTHING;
            """, ct);
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO registry.batch_events (batch_id, dataset, status, at, actor, details)
            VALUES ({batchId}, {dataset}, {status}, {at}, {actor}, {detailsJson}::jsonb) ON CONFLICT DO NOTHING
            """, ct);
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO registry.batches AS b (batch_id, dataset, status, status_at, row_count, sha256, rows_location, statistics_location, schema_version, ingested_at, upstream)
            VALUES ({batchId}, {dataset}, {status}, {at}, {facts.RowCount}, {facts.Sha256}, {facts.RowsLocation}, {statistics}, {facts.SchemaVersion}, {facts.IngestedAt}, {facts.Upstream})
            ON CONFLICT (batch_id) DO UPDATE SET
                status = CASE WHEN excluded.status = 'corrupt' THEN 'corrupt'
                              WHEN b.status = 'corrupt' OR excluded.status_at < b.status_at THEN b.status
                              ELSE excluded.status END,
                status_at = CASE WHEN excluded.status = 'corrupt' THEN excluded.status_at
                                 WHEN b.status = 'corrupt' OR excluded.status_at < b.status_at THEN b.status_at
                                 ELSE excluded.status_at END,
                row_count = COALESCE(excluded.row_count, b.row_count),
                sha256 = COALESCE(excluded.sha256, b.sha256),
                rows_location = COALESCE(excluded.rows_location, b.rows_location),
                statistics_location = COALESCE(b.statistics_location, excluded.statistics_location),
                schema_version = COALESCE(excluded.schema_version, b.schema_version),
                ingested_at = COALESCE(b.ingested_at, excluded.ingested_at),
                upstream = COALESCE(b.upstream, excluded.upstream)
            """, ct);
    }
}
