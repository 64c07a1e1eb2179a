using Ctm.Data.Schema;
using Ctm.Data.Validation;
using Ctm.ServiceDefaults.Storage;
using Ctm.Validator.Extensions;
using Ctm.Validator.Quarantine;
using Ctm.Validator.Storage;
using Ctm.Validator.Validation;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Ctm.Validator.Schemas;

/// <summary>The result of a schema change: the new version, and whether the proposal's batch was released by it.</summary>
public sealed record SchemaChangeResult(OperatorOutcome Outcome, string Message, int? Version = null, Guid? ReleasedBatch = null);

/// <summary>
/// Operators change a dataset's schema (relax a domain's mass, add domain values, widen a range, mark a column
/// optional, add a column) directly or by approving the change the Validator proposed for a quarantined batch.
/// Every change is a new version, audited.
/// </summary>
public sealed partial class SchemaService(
    ValidatorDbContext db, DatasetStore store, QuarantineService quarantine, OutboxSignal signal, IOptions<ValidatorOptions> settings, TimeProvider clock, ILogger<SchemaService> logger)
{
    public async Task<SchemaChangeResult> ChangeAsync(string dataset, IReadOnlyList<SchemaChange> changes, string @operator, string reason, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await store.LockAsync(dataset, ct);
        var current = await store.CurrentSchemaAsync(dataset, ct);
        if (current is null)
        {
            return new(OperatorOutcome.NotFound, $"dataset '{dataset}' has no schema yet");
        }

        var next = TryApply(current, changes, out var problem);
        if (next is null)
        {
            return new(OperatorOutcome.Conflict, problem!);
        }

        store.AddSchema(dataset, next, current.Contract.Task, $"changed by {@operator}: {reason}", @operator);
        store.Audit(dataset, null, "change-schema", @operator, reason, new { fromVersion = current.Version, toVersion = next.Version, changes = Describe(changes) });
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        LogChanged(dataset, next.Version, @operator, string.Join("; ", Describe(changes)));
        return new(OperatorOutcome.Done, $"schema v{next.Version}: {string.Join("; ", Describe(changes))}", next.Version);
    }

    /// <summary>
    /// Applies a proposal to the current schema. When every reason the batch was quarantined for is a schema
    /// reason and the new version accepts the batch's statistics, the batch is released in the same transaction.
    /// </summary>
    public async Task<SchemaChangeResult> ApproveAsync(Guid proposalId, string @operator, string reason, CancellationToken ct)
    {
        var dataset = await db.Proposals.AsNoTracking().Where(p => p.Id == proposalId).Select(p => p.Dataset).SingleOrDefaultAsync(ct);
        if (dataset is null)
        {
            return new(OperatorOutcome.NotFound, $"proposal {proposalId} is unknown");
        }

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await store.LockAsync(dataset, ct);
        var proposal = await db.Proposals.SingleAsync(p => p.Id == proposalId, ct);
        if (proposal.Status == ProposalStatus.Approved)
        {
            return new(OperatorOutcome.AlreadyDone, $"proposal {proposalId} was already approved (schema v{proposal.ResultingVersion})", proposal.ResultingVersion);
        }

        if (proposal.Status != ProposalStatus.Pending)
        {
            return new(OperatorOutcome.Conflict, $"proposal {proposalId} is {EnumText<ProposalStatus>.Name(proposal.Status)}");
        }

        var current = (await store.CurrentSchemaAsync(dataset, ct))!;
        var changes = proposal.Changes;
        var next = TryApply(current, changes, out var problem);
        if (next is null)
        {
            return new(OperatorOutcome.Conflict, problem!);
        }

        var now = clock.GetUtcNow();
        store.AddSchema(dataset, next, current.Contract.Task, $"proposal {proposalId} for batch {proposal.BatchId} approved by {@operator}: {reason}", @operator);
        proposal.Status = ProposalStatus.Approved;
        proposal.DecidedBy = @operator;
        proposal.DecisionReason = reason;
        proposal.DecidedAt = now;
        proposal.ResultingVersion = next.Version;
        store.Audit(dataset, proposal.BatchId, "approve-proposal", @operator, reason, new { proposal = proposalId, fromVersion = current.Version, toVersion = next.Version, changes = Describe(changes) });
        await db.SaveChangesAsync(ct);

        Guid? released = null;
        if (await AcceptsNowAsync(proposal.BatchId, next, ct))
        {
            var batch = await db.Batches.AsNoTracking().SingleAsync(b => b.BatchId == proposal.BatchId, ct);
            var (outcome, _) = await quarantine.ReleaseLockedAsync(proposal.BatchId, @operator, $"schema v{next.Version} accepts it (proposal {proposalId}): {reason}", batch.CorrelationId, ct);
            released = outcome == OperatorOutcome.Done ? proposal.BatchId : null;
        }

        await tx.CommitAsync(ct);
        signal.Notify();
        LogApproved(proposalId, dataset, next.Version, @operator, released is not null);
        return new(OperatorOutcome.Done, $"schema v{next.Version}{(released is null ? "; the batch stays quarantined (it has reasons no schema change fixes)" : "; the batch was released")}", next.Version, released);
    }

    public async Task<SchemaChangeResult> RejectAsync(Guid proposalId, string @operator, string reason, CancellationToken ct)
    {
        var proposal = await db.Proposals.SingleOrDefaultAsync(p => p.Id == proposalId, ct);
        if (proposal is null)
        {
            return new(OperatorOutcome.NotFound, $"proposal {proposalId} is unknown");
        }

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await store.LockAsync(proposal.Dataset, ct);
        await db.Entry(proposal).ReloadAsync(ct);
        if (proposal.Status == ProposalStatus.Rejected)
        {
            return new(OperatorOutcome.AlreadyDone, $"proposal {proposalId} was already rejected");
        }

        if (proposal.Status != ProposalStatus.Pending)
        {
            return new(OperatorOutcome.Conflict, $"proposal {proposalId} is {EnumText<ProposalStatus>.Name(proposal.Status)}");
        }

        proposal.Status = ProposalStatus.Rejected;
        proposal.DecidedBy = @operator;
        proposal.DecisionReason = reason;
        proposal.DecidedAt = clock.GetUtcNow();
        store.Audit(proposal.Dataset, proposal.BatchId, "reject-proposal", @operator, reason, new { proposal = proposalId });
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return new(OperatorOutcome.Done, $"proposal {proposalId} rejected; batch {proposal.BatchId} stays quarantined");
    }

    /// <summary>Sets (or, with both null, removes) a feature's drift and skew thresholds; feature '*' is the dataset's default.</summary>
    public async Task SetThresholdsAsync(string dataset, string feature, DriftThresholds? drift, DriftThresholds? skew, string @operator, string reason, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await store.LockAsync(dataset, ct);
        var now = clock.GetUtcNow();
        foreach (var (kind, value) in new[] { (ThresholdKinds.Drift, drift), (ThresholdKinds.Skew, skew) })
        {
            if (value is null)
            {
                continue;
            }

            var row = await db.Thresholds.FindAsync([dataset, feature, kind], ct);
            if (row is null)
            {
                row = new FeatureThreshold { Dataset = dataset, Feature = feature, Kind = kind, UpdatedBy = @operator };
                db.Thresholds.Add(row);
            }

            row.Significance = value.Significance;
            row.JensenShannonFloor = value.JensenShannonFloor;
            row.LInfinityFloor = value.LInfinityFloor;
            row.Enabled = value.Enabled;
            row.Settings = value;
            row.UpdatedBy = @operator;
            row.UpdatedAt = now;
        }

        store.Audit(dataset, null, "set-thresholds", @operator, reason, new { feature, drift, skew });
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
    }

    private async Task<bool> AcceptsNowAsync(Guid batchId, DataSchema schema, CancellationToken ct)
    {
        var batch = await db.Batches.AsNoTracking().SingleAsync(b => b.BatchId == batchId, ct);
        if (batch.Status != BatchStatus.Quarantined || batch.Details is null || await store.StatisticsAsync(batchId, ct) is not { } statistics)
        {
            return false;
        }

        var original = batch.Details;
        if (!original.Blocking.All(a => AnomalyMapping.IsSchemaFixable(a.Kind)))
        {
            return false;
        }

        // Statistics were read with the old schema's types; the schema checks depend on counts, which do not change.
        return new BatchValidator(settings.Value.ToOptions() with { CheckDrift = false }).Validate(statistics, schema).IsAccepted;
    }

    private static DataSchema? TryApply(CurrentSchema current, IReadOnlyList<SchemaChange> changes, out string? problem)
    {
        problem = null;
        if (changes.Count == 0)
        {
            problem = "no changes were given";
            return null;
        }

        try
        {
            return current.Data.Apply(changes);
        }
        catch (ArgumentException e)
        {
            problem = e.Message;
            return null;
        }
    }

    private static List<string> Describe(IEnumerable<SchemaChange> changes) => [.. changes.Select(c => c.Describe())];

    [LoggerMessage(Level = LogLevel.Information, Message = "Schema of {Dataset} is now v{Version}, changed by {Operator}: {Changes}")]
    private partial void LogChanged(string dataset, int version, string @operator, string changes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Proposal {ProposalId} for {Dataset} approved by {Operator}: schema v{Version}, batch released: {Released}")]
    private partial void LogApproved(Guid proposalId, string dataset, int version, string @operator, bool released);
}
