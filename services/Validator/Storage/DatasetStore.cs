using Ctm.Contracts;
using Ctm.Data.Drift;
using Ctm.Data.Schema;
using Ctm.Data.Statistics;
using Ctm.ServiceDefaults.Storage;
using Ctm.Validator.Extensions;
using Ctm.Validator.Validation;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Ctm.Validator.Storage;

/// <summary>A dataset's state as the Validator's decisions need it: the lock, the current schema, thresholds, windows, baselines, the audit log.</summary>
public sealed class DatasetStore(ValidatorDbContext db, IOptions<ValidatorOptions> settings, TimeProvider clock)
{
    /// <summary>Serializes every decision about a dataset (validation, release, discard, schema change) until the transaction ends.</summary>
    public async Task LockAsync(string dataset, CancellationToken ct) =>
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtext({"validator:" + dataset}))", ct);

    /// <summary>The dataset's newest schema, or null before its first accepted batch.</summary>
    public async Task<CurrentSchema?> CurrentSchemaAsync(string dataset, CancellationToken ct)
    {
        var row = await db.Schemas.AsNoTracking().Where(s => s.Dataset == dataset).OrderByDescending(s => s.Version).FirstOrDefaultAsync(ct);
        return row is null ? null : CurrentSchema.From(row);
    }

    /// <summary>Records a new schema version (<paramref name="schema"/>'s version) with its contract view.</summary>
    public void AddSchema(string dataset, DataSchema schema, TaskKind task, string reason, string? createdBy)
    {
        db.Schemas.Add(new SchemaVersion
        {
            Dataset = dataset,
            Version = schema.Version,
            Definition = DatasetSchema.From(schema, task),
            DataSchema = schema,
            Reason = reason,
            CreatedBy = createdBy,
            CreatedAt = clock.GetUtcNow(),
        });
    }

    /// <summary><paramref name="schema"/> with the dataset's drift and skew thresholds (per feature, then the dataset's '*', then the schema's own).</summary>
    public async Task<DataSchema> WithThresholdsAsync(string dataset, DataSchema schema, CancellationToken ct)
    {
        var rows = await db.Thresholds.AsNoTracking().Where(t => t.Dataset == dataset).ToListAsync(ct);
        if (rows.Count == 0)
        {
            return schema;
        }

        DriftThresholds? Find(string feature, string kind) =>
            (rows.FirstOrDefault(r => r.Feature == feature && r.Kind == kind) ?? rows.FirstOrDefault(r => r.Feature == ThresholdKinds.AllFeatures && r.Kind == kind)) is { } r
                ? ToThresholds(r, kind == ThresholdKinds.Drift ? settings.Value.DefaultDrift : settings.Value.DefaultSkew)
                : null;

        return schema with
        {
            Columns = [.. schema.Columns.Select(c => c with
            {
                Drift = Find(c.Name, ThresholdKinds.Drift) ?? c.Drift,
                Skew = Find(c.Name, ThresholdKinds.Skew) ?? c.Skew,
            })],
        };
    }

    /// <summary>A stored override: the full settings where they were stored, else the four original columns over the service's defaults.</summary>
    public static DriftThresholds ToThresholds(FeatureThreshold row, DriftThresholds defaults) =>
        row.Settings ?? defaults with { Significance = row.Significance, JensenShannonFloor = row.JensenShannonFloor, LInfinityFloor = row.LInfinityFloor, Enabled = row.Enabled };

    /// <summary>
    /// The measures of the dataset's latest decided batches, oldest first. A batch counts as accepted (part of the
    /// empirical null) only while its status is accepted: a quarantined one never, and neither a released one (it was
    /// judged abnormal; its data trains, its distances would widen the null) nor one later declared corrupt.
    /// </summary>
    public async Task<List<BatchMeasures>> HistoryAsync(string dataset, int batches, CancellationToken ct)
    {
        var rows = await (from m in db.Measures.AsNoTracking()
                          join b in db.Batches.AsNoTracking() on m.BatchId equals b.BatchId
                          where m.Dataset == dataset
                          orderby m.DecidedAt descending
                          select new { m.Measures, b.Status }).Take(batches).ToListAsync(ct);
        rows.Reverse();
        return [.. rows.Select(r => r.Measures with { Accepted = r.Status == BatchStatus.Accepted })];
    }

    /// <summary>
    /// The most recent usable batches of the dataset (not <paramref name="except"/>: accepted or released, whose data may be
    /// trained on; a quarantined batch never is, so the reference stays clean while a corruption lasts) and their merged
    /// statistics, or null when there are none.
    /// </summary>
    public async Task<(Guid[] Ids, BatchStatistics Merged)?> WindowAsync(string dataset, Guid except, CancellationToken ct)
    {
        var ids = await db.Batches.AsNoTracking()
            .Where(b => b.Dataset == dataset && b.BatchId != except && (b.Status == BatchStatus.Accepted || b.Status == BatchStatus.Released))
            .OrderByDescending(b => b.DecidedAt).Take(settings.Value.WindowBatches).Select(b => b.BatchId).ToArrayAsync(ct);
        var merged = await MergeAsync(ids, ct);
        return merged is null ? null : (ids, merged);
    }

    /// <summary>The merged statistics of <paramref name="batchIds"/> (those that have statistics), or null when none has.</summary>
    public async Task<BatchStatistics?> MergeAsync(IReadOnlyCollection<Guid> batchIds, CancellationToken ct)
    {
        if (batchIds.Count == 0)
        {
            return null;
        }

        var json = await db.Statistics.AsNoTracking().Where(s => batchIds.Contains(s.BatchId)).Select(s => s.Statistics).ToListAsync(ct);
        return json.Count == 0 ? null : BatchStatistics.Merge(json.Select(BatchStatistics.FromJson));
    }

    public async Task<BatchStatistics?> StatisticsAsync(Guid batchId, CancellationToken ct)
    {
        var json = await db.Statistics.AsNoTracking().Where(s => s.BatchId == batchId).Select(s => s.Statistics).SingleOrDefaultAsync(ct);
        return json is null ? null : BatchStatistics.FromJson(json);
    }

    public void Audit(string dataset, Guid? batchId, string action, string @operator, string reason, object? details = null) =>
        db.Audit.Add(new AuditEntry
        {
            Dataset = dataset,
            BatchId = batchId,
            Action = action,
            Operator = @operator,
            Reason = reason,
            Details = details is null ? null : JsonColumns.Element(details),
            At = clock.GetUtcNow(),
        });
}

/// <summary>A schema version as stored: the library's schema and the contract view.</summary>
public sealed record CurrentSchema(int Version, DataSchema Data, DatasetSchema Contract, string Reason, string? CreatedBy, DateTimeOffset CreatedAt)
{
    public static CurrentSchema From(SchemaVersion row)
    {
        var contract = row.Definition;
        // Versions written before the library's schema was stored get one from their columns: types and the label, no limits.
        var data = row.DataSchema ?? new DataSchema
        {
            Version = row.Version,
            LabelColumn = contract.Label,
            Columns = [.. contract.Columns.Select(c => new ColumnSchema { Name = c.Name, Type = c.Kind == ColumnKind.Numeric ? ColumnType.Numeric : ColumnType.Categorical })],
        };
        return new CurrentSchema(row.Version, data with { Version = row.Version }, contract, row.Reason, row.CreatedBy, row.CreatedAt);
    }
}

public static class ThresholdKinds
{
    public const string Drift = "drift";
    public const string Skew = "skew";
    public const string AllFeatures = "*";
}
