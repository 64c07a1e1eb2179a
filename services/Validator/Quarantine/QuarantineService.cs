using Ctm.Contracts;
using Ctm.Data.Schema;
using Ctm.ServiceDefaults.Storage;
using Ctm.Validator.Storage;
using Ctm.Validator.Validation;
using Microsoft.EntityFrameworkCore;

namespace Ctm.Validator.Quarantine;

/// <summary>What became of an operator's request about a batch.</summary>
public enum OperatorOutcome
{
    /// <summary>Done now.</summary>
    Done,

    /// <summary>It was already done (a repeated request): no second effect.</summary>
    AlreadyDone,

    /// <summary>No such batch.</summary>
    NotFound,

    /// <summary>The batch is not in a state that allows it (e.g. releasing an accepted or discarded batch).</summary>
    Conflict,
}

/// <summary>
/// Operators' decisions about quarantined batches. A release publishes <see cref="BatchAccepted"/> with
/// <c>Released = true</c> (the Trainer then trains on it); a discard publishes <see cref="BatchDiscarded"/> and the
/// batch is never trained on. Both are audited (who, when, why), serialized with validation per dataset, and idempotent.
/// A release can apply the batch's pending schema proposals (new domain values, wider ranges), so that the
/// operator's decision also widens the schema and the next such batch passes on its own.
/// </summary>
public sealed partial class QuarantineService(ValidatorDbContext db, DatasetStore store, OutboxSignal signal, TimeProvider clock, ILogger<QuarantineService> logger)
{
    /// <summary>Releases a quarantined batch; with <paramref name="applyProposals"/>, its pending schema proposals are approved first (audited), so the schema widens with the release.</summary>
    public async Task<(OperatorOutcome Outcome, string Message)> ReleaseAsync(Guid batchId, string @operator, string reason, Guid correlationId, CancellationToken ct, bool applyProposals = false)
    {
        var dataset = await DatasetOfAsync(batchId, ct);
        if (dataset is null)
        {
            return (OperatorOutcome.NotFound, $"batch {batchId} is unknown to the Validator");
        }

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await store.LockAsync(dataset, ct);
        var (outcome, message) = await ReleaseLockedAsync(batchId, @operator, reason, correlationId, ct, applyProposals);
        await tx.CommitAsync(ct);
        signal.Notify();
        return (outcome, message);
    }

    /// <summary>Releases inside a transaction that already holds the dataset's lock (a proposal's approval releases its batch too).</summary>
    public async Task<(OperatorOutcome Outcome, string Message)> ReleaseLockedAsync(Guid batchId, string @operator, string reason, Guid correlationId, CancellationToken ct, bool applyProposals = false)
    {
        var batch = await db.Batches.SingleAsync(b => b.BatchId == batchId, ct);
        if (batch.Status == BatchStatus.Released)
        {
            return (OperatorOutcome.AlreadyDone, $"batch {batchId} was already released");
        }

        if (batch.Status != BatchStatus.Quarantined)
        {
            return (OperatorOutcome.Conflict, $"batch {batchId} is {EnumText<BatchStatus>.Name(batch.Status)}; only a quarantined batch can be released");
        }

        var schema = await store.CurrentSchemaAsync(batch.Dataset, ct);
        if (schema is null)
        {
            return (OperatorOutcome.Conflict, $"dataset '{batch.Dataset}' has no schema yet (no batch was accepted), so the batch has no features to train on; fix the data, or accept a first batch");
        }

        var now = clock.GetUtcNow();
        var applied = new List<string>();
        if (applyProposals)
        {
            (schema, applied) = await ApplyProposalsAsync(batch, schema, @operator, reason, now, ct);
        }

        batch.Status = BatchStatus.Released;
        batch.UpdatedAt = now;
        store.Audit(batch.Dataset, batchId, "release", @operator, reason, new { schemaVersion = schema.Version, appliedProposals = applied });
        await db.SaveChangesAsync(ct);
        await db.EnqueueAsync(
            BatchValidation.Accepted(batch.BatchId, batch.Dataset, batch.CorrelationId, batch.RowCount, batch.Sha256, batch.Location, schema.Contract, schema.Version, released: true, now),
            correlationId, ct);
        LogReleased(batchId, batch.Dataset, @operator, reason);
        ValidatorMetrics.RecordDecision(batch.Dataset, BatchStatus.Released);
        return (OperatorOutcome.Done, applied.Count == 0
            ? $"batch {batchId} released by {@operator}"
            : $"batch {batchId} released by {@operator}; schema v{schema.Version}: {string.Join("; ", applied)}");
    }

    // The batch's pending proposals, applied in order as schema versions and marked approved by the releasing operator.
    private async Task<(CurrentSchema Schema, List<string> Applied)> ApplyProposalsAsync(BatchDecision batch, CurrentSchema schema, string @operator, string reason, DateTimeOffset now, CancellationToken ct)
    {
        var applied = new List<string>();
        var proposals = await db.Proposals.Where(p => p.BatchId == batch.BatchId && p.Status == ProposalStatus.Pending).OrderBy(p => p.CreatedAt).ToListAsync(ct);
        foreach (var proposal in proposals)
        {
            var changes = proposal.Changes;
            DataSchema next;
            try
            {
                next = schema.Data.Apply(changes);
            }
            catch (ArgumentException)
            {
                // A column the proposal names is gone from the schema since: the proposal no longer applies.
                continue;
            }

            var described = changes.Select(c => c.Describe()).ToList();
            store.AddSchema(batch.Dataset, next, schema.Contract.Task, $"proposal {proposal.Id} for batch {batch.BatchId} applied on release by {@operator}: {reason}", @operator);
            proposal.Status = ProposalStatus.Approved;
            proposal.DecidedBy = @operator;
            proposal.DecisionReason = reason;
            proposal.DecidedAt = now;
            proposal.ResultingVersion = next.Version;
            store.Audit(batch.Dataset, batch.BatchId, "approve-proposal", @operator, reason, new { proposal = proposal.Id, fromVersion = schema.Version, toVersion = next.Version, changes = described, onRelease = true });
            schema = schema with { Version = next.Version, Data = next, Contract = DatasetSchema.From(next, schema.Contract.Task) };
            applied.AddRange(described);
        }

        return (schema, applied);
    }

    public async Task<(OperatorOutcome Outcome, string Message)> DiscardAsync(Guid batchId, string @operator, string reason, Guid correlationId, CancellationToken ct)
    {
        var dataset = await DatasetOfAsync(batchId, ct);
        if (dataset is null)
        {
            return (OperatorOutcome.NotFound, $"batch {batchId} is unknown to the Validator");
        }

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await store.LockAsync(dataset, ct);
        var batch = await db.Batches.SingleAsync(b => b.BatchId == batchId, ct);
        if (batch.Status == BatchStatus.Discarded)
        {
            return (OperatorOutcome.AlreadyDone, $"batch {batchId} was already discarded");
        }

        if (batch.Status != BatchStatus.Quarantined)
        {
            return (OperatorOutcome.Conflict, $"batch {batchId} is {EnumText<BatchStatus>.Name(batch.Status)}; only a quarantined batch can be discarded (a batch already trained on is rolled back through the Registry)");
        }

        var now = clock.GetUtcNow();
        batch.Status = BatchStatus.Discarded;
        batch.UpdatedAt = now;
        store.Audit(dataset, batchId, "discard", @operator, reason);
        await db.SaveChangesAsync(ct);
        await db.EnqueueAsync(new BatchDiscarded
        {
            BatchId = batchId,
            Dataset = dataset,
            Operator = @operator,
            Reason = reason,
            CorrelationId = correlationId,
            DiscardedAt = now,
        }, correlationId, ct);
        await tx.CommitAsync(ct);
        signal.Notify();
        LogDiscarded(batchId, dataset, @operator, reason);
        ValidatorMetrics.RecordDecision(dataset, BatchStatus.Discarded);
        return (OperatorOutcome.Done, $"batch {batchId} discarded by {@operator}");
    }

    /// <summary>A rollback declared the batch corrupt: it leaves the drift window for good (training baselines still record it).</summary>
    public async Task MarkCorruptAsync(BatchDeclaredCorrupt message, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await store.LockAsync(message.Dataset, ct);
        var batch = await db.Batches.SingleOrDefaultAsync(b => b.BatchId == message.BatchId, ct);
        if (batch is null || batch.Status == BatchStatus.Corrupt)
        {
            return;
        }

        var previous = batch.Status;
        batch.Status = BatchStatus.Corrupt;
        batch.UpdatedAt = clock.GetUtcNow();
        store.Audit(message.Dataset, message.BatchId, "declare-corrupt", message.Operator, message.Reason, new { previousStatus = previous, message.TaintedVersions });
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        LogCorrupt(message.BatchId, message.Dataset, message.Operator, message.Reason);
    }

    private Task<string?> DatasetOfAsync(Guid batchId, CancellationToken ct) =>
        db.Batches.AsNoTracking().Where(b => b.BatchId == batchId).Select(b => b.Dataset).SingleOrDefaultAsync(ct);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId} of {Dataset} released by {Operator}: {Reason}")]
    private partial void LogReleased(Guid batchId, string dataset, string @operator, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId} of {Dataset} discarded by {Operator}: {Reason}")]
    private partial void LogDiscarded(Guid batchId, string dataset, string @operator, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId} of {Dataset} declared corrupt by {Operator}: {Reason}")]
    private partial void LogCorrupt(Guid batchId, string dataset, string @operator, string reason);
}
