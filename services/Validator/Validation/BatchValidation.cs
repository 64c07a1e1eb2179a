using Ctm.Contracts;
using Ctm.Data.Parsing;
using Ctm.Data.Schema;
using Ctm.Data.Statistics;
using Ctm.Data.Validation;
using Ctm.ServiceDefaults.Http;
using Ctm.ServiceDefaults.Storage;
using Ctm.Validator.Extensions;
using Ctm.Validator.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Ctm.Validator.Validation;

/// <summary>
/// Decides a batch: accept, or quarantine with every reason. One decision per batch, whatever the redeliveries.
/// Statistics are computed in one streaming pass and stored, so windows and training baselines are merges.
/// </summary>
public sealed partial class BatchValidation(
    ValidatorDbContext db, DatasetStore store, IHttpClientFactory http, OutboxSignal signal, IOptions<ValidatorOptions> settings, TimeProvider clock, ILogger<BatchValidation> logger)
{
    public async Task ValidateAsync(BatchIngested message, CancellationToken ct)
    {
        // A batch recorded as failed is tried again when an operator re-drives its message.
        if (await db.Batches.AnyAsync(b => b.BatchId == message.BatchId && b.Status != BatchStatus.Failed, ct))
        {
            LogDuplicate(message.BatchId);
            return;
        }

        // Fetch outside the transaction: no locks are held while the network is slow.
        var bytes = await http.RedeemClaimCheckAsync(message.Location, message.Sha256, ct);

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // Serialize decisions per dataset, so that two first batches cannot both fix the schema.
        await store.LockAsync(message.Dataset, ct);
        if (!await db.TryMarkProcessedAsync("validate-batch", message.BatchId.ToString(), ct))
        {
            LogDuplicate(message.BatchId);
            return;
        }

        await db.Batches.Where(b => b.BatchId == message.BatchId && b.Status == BatchStatus.Failed).ExecuteDeleteAsync(ct);

        var now = clock.GetUtcNow();
        var knownHashes = await db.Batches.AsNoTracking().Where(b => b.Dataset == message.Dataset && b.Sha256 == message.Sha256).Select(b => b.Sha256).ToListAsync(ct);
        var validator = new BatchValidator(settings.Value.ToOptions());
        var current = await store.CurrentSchemaAsync(message.Dataset, ct);
        BatchStatistics statistics;
        ValidationDecision decision;
        DatasetSchema? contract = null;
        Guid[]? windowIds = null;
        if (current is null)
        {
            (statistics, decision, contract) = await FirstBatchAsync(message, bytes, validator, knownHashes, ct);
        }
        else
        {
            var schema = await store.WithThresholdsAsync(message.Dataset, current.Data, ct);
            statistics = Compute(bytes, message.Location, schema, null);
            var window = await store.WindowAsync(message.Dataset, message.BatchId, ct);
            windowIds = window?.Ids;
            var history = await store.HistoryAsync(message.Dataset, HistoryDepth(schema), ct);
            decision = validator.Validate(statistics, schema, window?.Merged, message.Sha256, knownHashes, history);
            contract = current.Contract;
        }

        int? version = contract is null ? null : decision.SchemaVersion;
        if (decision.IsAccepted && current is not null && decision.SchemaChanges.Count > 0)
        {
            version = Widen(message, current, decision.SchemaChanges);
        }

        var reasons = AnomalyMapping.ToContract(decision.Anomalies);
        db.Batches.Add(new BatchDecision
        {
            BatchId = message.BatchId,
            Dataset = message.Dataset,
            Status = decision.IsAccepted ? BatchStatus.Accepted : BatchStatus.Quarantined,
            SchemaVersion = version,
            RowCount = message.RowCount,
            Sha256 = message.Sha256,
            Location = message.Location,
            CorrelationId = message.CorrelationId,
            Reasons = reasons,
            Details = decision,
            WindowBatchIds = windowIds,
            DecidedAt = now,
        });
        db.Statistics.Add(new StoredStatistics { BatchId = message.BatchId, Dataset = message.Dataset, Statistics = statistics.ToJson(), CreatedAt = now });
        if (decision.Measures is { } measures)
        {
            db.Measures.Add(new StoredMeasures { BatchId = message.BatchId, Dataset = message.Dataset, Measures = measures, DecidedAt = now });
        }

        if (decision.IsAccepted)
        {
            await db.SaveChangesAsync(ct);
            var accepted = Accepted(message.BatchId, message.Dataset, message.CorrelationId, message.RowCount, message.Sha256, message.Location, contract!, version!.Value, released: false, now)
                with { Warnings = reasons.Count > 0 ? reasons : null };
            await db.EnqueueAsync(accepted, message.CorrelationId, ct);
            LogAccepted(message.BatchId, message.Dataset, version.Value, reasons.Count);
        }
        else
        {
            // Every change that would let the batch in, warnings' widenings included, so that a release can apply them all.
            if (current is not null && current.Data.ProposeFix(decision.Anomalies) is { Count: > 0 } changes)
            {
                db.Proposals.Add(new SchemaProposal
                {
                    Id = Guid.CreateVersion7(),
                    Dataset = message.Dataset,
                    BatchId = message.BatchId,
                    BaseVersion = current.Version,
                    Changes = [.. changes],
                    Status = ProposalStatus.Pending,
                    CreatedAt = now,
                });
            }

            await db.SaveChangesAsync(ct);
            await db.EnqueueAsync(new BatchQuarantined
            {
                BatchId = message.BatchId,
                Dataset = message.Dataset,
                CorrelationId = message.CorrelationId,
                Reasons = reasons,
                SchemaVersion = version,
                QuarantinedAt = now,
            }, message.CorrelationId, ct);
            LogQuarantined(message.BatchId, message.Dataset, string.Join(" ", decision.Blocking.Select(a => a.Description)));
        }

        await tx.CommitAsync(ct);
        ValidatorMetrics.RecordDecision(message.Dataset, decision.IsAccepted ? BatchStatus.Accepted : BatchStatus.Quarantined);
        signal.Notify();
    }

    /// <summary>
    /// Records that <paramref name="message"/>'s batch can never be validated as sent, with the reason, unless it was
    /// decided already. Nothing is published: the batch is not quarantined (there is nothing an operator could release).
    /// </summary>
    public async Task RecordFailedAsync(BatchIngested message, string reason, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        if (await db.Batches.AnyAsync(b => b.BatchId == message.BatchId, ct))
        {
            return;
        }

        var reasons = new List<Ctm.Contracts.Anomaly>
        {
            new() { Kind = "unreadable", Description = reason, Severity = "block" },
        };
        db.Batches.Add(new BatchDecision
        {
            BatchId = message.BatchId,
            Dataset = message.Dataset,
            Status = BatchStatus.Failed,
            RowCount = message.RowCount,
            Sha256 = message.Sha256,
            Location = message.Location,
            CorrelationId = message.CorrelationId,
            Reasons = reasons,
            DecidedAt = clock.GetUtcNow(),
        });
        await db.SaveChangesAsync(ct);
        LogFailed(message.BatchId, message.Dataset, reason);
    }

    // Enough decided batches that the null of every feature can fill its history even with quarantined ones among them.
    private int HistoryDepth(DataSchema schema) =>
        2 * schema.Columns.Select(c => (c.Drift ?? settings.Value.DefaultDrift).HistoryBatches).DefaultIfEmpty(settings.Value.HistoryBatches).Max();

    /// <summary>
    /// An accepted batch that brought new domain values or exceeded a range a little widens the schema: a new version,
    /// created by the Validator, audited with the values. The Trainer keeps its lineage across such relaxations.
    /// </summary>
    private int Widen(BatchIngested message, CurrentSchema current, IReadOnlyList<SchemaChange> changes)
    {
        var next = current.Data.Apply(changes);
        var described = changes.Select(c => c.Describe()).ToList();
        var reason = $"widened by the validator for batch {message.BatchId}: {string.Join("; ", described)}";
        store.AddSchema(message.Dataset, next, current.Contract.Task, reason, Actor);
        store.Audit(message.Dataset, message.BatchId, "widen-schema", Actor, reason, new { fromVersion = current.Version, toVersion = next.Version, changes = described });
        LogWidened(message.Dataset, next.Version, message.BatchId, string.Join("; ", described));
        return next.Version;
    }

    /// <summary>The actor named in the audit log for the Validator's own schema changes.</summary>
    public const string Actor = "validator";

    /// <summary>The event that lets a batch flow on to training, described by the dataset's current schema.</summary>
    public static BatchAccepted Accepted(Guid batchId, string dataset, Guid correlationId, long rowCount, string sha256, string location, DatasetSchema schema, int version, bool released, DateTimeOffset now) => new()
    {
        BatchId = batchId,
        Dataset = dataset,
        CorrelationId = correlationId,
        RowCount = rowCount,
        Sha256 = sha256,
        Location = location,
        SchemaVersion = version,
        Features = schema.Features,
        LabelColumn = schema.Label,
        Task = schema.Task,
        Released = released,
        AcceptedAt = now,
    };

    /// <summary>The first batch fixes the schema: types inferred, then presence, domains and ranges from its statistics.</summary>
    private async Task<(BatchStatistics, ValidationDecision, DatasetSchema?)> FirstBatchAsync(
        BatchIngested message, byte[] bytes, BatchValidator validator, List<string> knownHashes, CancellationToken ct)
    {
        var config = await db.Datasets.AsNoTracking().SingleOrDefaultAsync(d => d.Dataset == message.Dataset, ct);
        var columns = Header(bytes, message.Location);
        var label = DatasetSchema.ChooseLabel(columns, config?.LabelColumn);
        var statistics = Compute(bytes, message.Location, null, label);
        if (!columns.Contains(label, StringComparer.Ordinal))
        {
            var missing = new Ctm.Data.Validation.Anomaly(label, AnomalyKind.MissingColumn, 0, 1,
                $"The label column '{label}' (from the dataset's config) is not in the batch, so no schema can be inferred from it.");
            return (statistics, ValidationDecision.From([missing], 0), null);
        }

        var schema = DataSchema.Infer(statistics, label, settings.Value.ToInferenceOptions());
        var decision = validator.Validate(statistics, schema, null, message.Sha256, knownHashes);
        if (!decision.IsAccepted)
        {
            return (statistics, decision, null);
        }

        var kind = schema.Find(label)!.Type;
        var task = config?.Task ?? DatasetSchema.InferTask(TabularBatch.ReadCsv(new MemoryStream(bytes, writable: false), message.Location), label, kind);
        store.AddSchema(message.Dataset, schema, task, $"inferred from batch {message.BatchId}", null);
        return (statistics, decision, DatasetSchema.From(schema, task));
    }

    private static BatchStatistics Compute(byte[] bytes, string source, DataSchema? schema, string? label)
    {
        using var reader = new CsvReader(new MemoryStream(bytes, writable: false), source);
        return BatchStatistics.Compute(reader, schema, label);
    }

    private static IReadOnlyList<string> Header(byte[] bytes, string source)
    {
        using var reader = new CsvReader(new MemoryStream(bytes, writable: false), source);
        return reader.Header;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId} was already decided; redelivery ignored")]
    private partial void LogDuplicate(Guid batchId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Accepted batch {BatchId} of {Dataset} (schema v{Version}, {Warnings} warning(s))")]
    private partial void LogAccepted(Guid batchId, string dataset, int version, int warnings);

    [LoggerMessage(Level = LogLevel.Information, Message = "Schema of {Dataset} widened to v{Version} by batch {BatchId}: {Changes}")]
    private partial void LogWidened(string dataset, int version, Guid batchId, string changes);

    [LoggerMessage(Level = LogLevel.Error, Message = "Batch {BatchId} of {Dataset} can never be validated as sent; recorded as failed: {Reason}")]
    private partial void LogFailed(Guid batchId, string dataset, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Quarantined batch {BatchId} of {Dataset}: {Reasons}")]
    private partial void LogQuarantined(Guid batchId, string dataset, string reasons);
}

