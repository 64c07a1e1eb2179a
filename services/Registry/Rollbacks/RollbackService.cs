using System.Security.Cryptography;
using System.Text;
using Ctm.Contracts;
using Ctm.Registry.Lineage;
using Ctm.Registry.Models;
using Ctm.Registry.Policies;
using Ctm.Registry.Storage;
using Ctm.ServiceDefaults.Storage;
using Microsoft.EntityFrameworkCore;

namespace Ctm.Registry.Rollbacks;

/// <summary>A rollback, from the bus or the API: a target version, or batches to declare corrupt.</summary>
public sealed record RollbackCommand(
    Guid RequestId, string Dataset, int? TargetVersion, BatchSelector Batches, string Reason, string Operator, bool Force, bool Retrain, Guid CorrelationId);

/// <summary>What a rollback did, or why it did nothing. Stored per request, so a repeated request returns the first answer.</summary>
public sealed record RollbackOutcome(
    Guid RequestId,
    string Dataset,
    ActionStatus Status,
    string Message,
    int? PreviousVersion,
    int? ServingVersion,
    long? Generation,
    Guid? CorruptBatchId,
    IReadOnlyList<int> TaintedVersions,
    bool Forced,
    Guid? RetrainRequestId,
    string Operator,
    string Reason,
    IReadOnlyList<Guid>? CorruptBatchIds = null,
    IReadOnlyList<VersionInfluence>? TaintedBy = null,
    BatchSelector? Selector = null,
    bool Duplicate = false)
{
    /// <summary>Each live replica's answer (loaded, refused with the reason, or still waiting), when the answer waited for them.</summary>
    public IReadOnlyList<Serving.ReplicaConfirmation>? Confirmations { get; init; }

    /// <summary>The answers in a sentence: which replicas serve the version, which refused it, which did not answer in time.</summary>
    public string? Confirmation { get; init; }
}

/// <summary>
/// Rollbacks, atomically: under the dataset's lock (the same one registration takes), in one transaction with the
/// outbox rows, so a rollback and a newly trained version are serialized and the generation only grows.
/// </summary>
public sealed partial class RollbackService(
    RegistryDbContext db,
    ModelRegistration registration,
    BatchTracker batches,
    OutboxSignal signal,
    TimeProvider clock,
    ILogger<RollbackService> logger)
{
    public async Task<RollbackOutcome> RollbackAsync(RollbackCommand c, CancellationToken ct)
    {
        if ((c.TargetVersion is null) == c.Batches.IsEmpty || string.IsNullOrWhiteSpace(c.Operator) || string.IsNullOrWhiteSpace(c.Reason))
        {
            return await RefuseAsync(c, ActionStatus.Invalid,
                "name either targetVersion or the corrupt batches (corruptBatchId, corruptBatchIds, ingestedFrom/ingestedTo, upstream), with the operator and a reason", ct);
        }

        if (c.Batches.Problem() is { } selectorProblem)
        {
            return await RefuseAsync(c, ActionStatus.Invalid, selectorProblem, ct);
        }

        RollbackOutcome outcome;
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            await registration.LockDatasetAsync(c.Dataset, ct);
            var earlier = await db.RollbackRequests.AsNoTracking().SingleOrDefaultAsync(r => r.RequestId == c.RequestId, ct);
            if (earlier is not null)
            {
                await db.RollbackRequests.Where(r => r.RequestId == c.RequestId).ExecuteUpdateAsync(s => s.SetProperty(r => r.Deliveries, r => r.Deliveries + 1), ct);
                await tx.CommitAsync(ct);
                LogDuplicate(c.RequestId, c.Dataset);
                return earlier.Outcome with { Duplicate = true };
            }

            var state = await LoadAsync(c.Dataset, ct);
            var (refusal, plan) = c.Batches.IsEmpty ? PlanTarget(c, state) : await PlanCorruptBatchesAsync(c, state, ct);
            if (refusal is not null)
            {
                // Nothing of this transaction is kept; the refusal itself is audited in its own.
                await tx.RollbackAsync(ct);
                return await RefuseAsync(c, refusal.Value.Status, refusal.Value.Message, ct);
            }

            outcome = await ApplyAsync(c, state, plan!, ct);
            db.RollbackRequests.Add(new RollbackRequestRecord { RequestId = c.RequestId, Dataset = c.Dataset, Outcome = outcome, At = clock.GetUtcNow() });
            db.Record(clock.GetUtcNow(), c.Operator, "rollback", c.Dataset, outcome);
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }

        signal.Notify();
        RegistryMetrics.RecordRollback(c.Dataset, outcome.Status);
        LogRolledBack(c.Dataset, outcome.PreviousVersion, outcome.ServingVersion, c.Operator, outcome.Message);
        return outcome;
    }

    private sealed record DatasetState(List<LineageNode> Nodes, Promotion? Serving, HashSet<int> EverServed, Dictionary<int, Guid[]> TaintedBy);

    private sealed record Plan(
        int? Target, IReadOnlyList<int> Influenced, bool Forced, string Message, IReadOnlyList<Guid> Batches, IReadOnlyList<VersionInfluence> Influence)
    {
        public static Plan ForTarget(int target, bool forced, string message) => new(target, [], forced, message, [], []);
    }

    private async Task<DatasetState> LoadAsync(string dataset, CancellationToken ct)
    {
        var versions = await db.Versions.AsNoTracking().Where(v => v.Dataset == dataset)
            .Select(v => new { v.Version, v.ParentVersion, v.Tainted, v.TaintedByBatch, v.TaintedByBatches }).ToListAsync(ct);
        var links = (await db.VersionBatches.AsNoTracking().Where(b => b.Dataset == dataset).ToListAsync(ct)).ToLookup(b => b.Version, b => b.BatchId);
        var serving = await db.Promotions.AsNoTracking().SingleOrDefaultAsync(p => p.Dataset == dataset && p.EndedAt == null, ct);
        if (await registration.CurrentDecisionAsync(dataset, ct) is { Confirmed: false } pending)
        {
            // A promotion no replica has confirmed yet is what the rollback overrules.
            serving = new Promotion { Dataset = dataset, Version = pending.Version, Generation = pending.Generation, Reason = "pending", Actor = "registry" };
        }

        var everServed = (await db.Promotions.AsNoTracking().Where(p => p.Dataset == dataset).Select(p => p.Version).Distinct().ToListAsync(ct)).ToHashSet();
        var nodes = versions.Select(v => new LineageNode(v.Version, v.ParentVersion, [.. links[v.Version]], v.Tainted)).ToList();
        // Versions tainted before the list existed (or at registration) name one batch.
        var taintedBy = versions.ToDictionary(v => v.Version, v => v.TaintedByBatches ?? (v.TaintedByBatch is { } b ? [b] : []));
        return new DatasetState(nodes, serving, everServed, taintedBy);
    }

    private async Task<((ActionStatus Status, string Message)? Refusal, Plan? Plan)> PlanCorruptBatchesAsync(RollbackCommand c, DatasetState state, CancellationToken ct)
    {
        var (refusal, batches) = await ResolveAsync(c, state, ct);
        if (refusal is not null)
        {
            return (refusal, null);
        }

        var influence = LineageGraph.InfluencedBy(state.Nodes, batches);
        var influenced = influence.Select(i => i.Version).ToList();
        var previouslyTainted = state.Nodes.Where(n => n.Tainted).Select(n => n.Version).ToHashSet();
        var tainted = previouslyTainted.Union(influenced).ToHashSet();
        var serving = state.Serving?.Version;
        var target = LineageGraph.ChooseClean([.. state.Nodes.Select(n => n.Version)], tainted, serving, state.EverServed);
        if (target is null && serving is not null)
        {
            var message = $"no clean version to serve: {Describe(batches)} influenced {List(influenced)}"
                + (previouslyTainted.Count > 0 ? $", and {List(previouslyTainted.Order())} were already tainted" : string.Empty)
                + (state.Nodes.Count > tainted.Count ? $"; the clean {List(state.Nodes.Select(n => n.Version).Where(v => !tainted.Contains(v)).Order())} never served (promote one with a target-version rollback)" : string.Empty)
                + "; nothing was changed";
            return ((ActionStatus.Conflict, message), null);
        }

        var what = target == serving
            ? $"v{serving} is clean and keeps serving"
            : target is null ? "nothing serves this dataset" : $"serving v{target} instead of v{serving}";
        return (null, new Plan(target, influenced, false, $"{Describe(batches)} declared corrupt; tainted {List(influenced)}; {what}", batches, influence));
    }

    /// <summary>
    /// The batches a selector names: every named batch must be this dataset's (or known from its lineage), and a filter
    /// must match at least one batch, so a typo never becomes a silent no-op. Ordered by ingestion time.
    /// </summary>
    private async Task<((ActionStatus Status, string Message)? Refusal, IReadOnlyList<Guid> Batches)> ResolveAsync(RollbackCommand c, DatasetState state, CancellationToken ct)
    {
        var selector = c.Batches;
        var named = selector.BatchIds.ToArray();
        var known = await db.Batches.AsNoTracking().Where(b => named.Contains(b.BatchId)).Select(b => new { b.BatchId, b.Dataset, b.IngestedAt }).ToListAsync(ct);
        if (known.Where(k => k.Dataset != c.Dataset).ToList() is { Count: > 0 } elsewhere)
        {
            return ((ActionStatus.NotFound, string.Join("; ", elsewhere.Select(k => $"batch {k.BatchId} belongs to dataset '{k.Dataset}', not '{c.Dataset}'")) + "; nothing was changed"), []);
        }

        var inLineage = state.Nodes.SelectMany(n => n.Batches).ToHashSet();
        var unknown = named.Where(id => !known.Any(k => k.BatchId == id) && !inLineage.Contains(id)).ToList();
        if (unknown.Count > 0)
        {
            var which = unknown.Count == 1 ? $"batch {unknown[0]} is" : $"batches {string.Join(", ", unknown)} are";
            return ((ActionStatus.NotFound, $"{which} unknown to the Registry for dataset '{c.Dataset}'"), []);
        }

        var selected = named.Select(id => (Id: id, At: known.FirstOrDefault(k => k.BatchId == id)?.IngestedAt)).ToList();
        if (selector.HasFilter)
        {
            var query = db.Batches.AsNoTracking().Where(b => b.Dataset == c.Dataset);
            if (selector.IngestedFrom is { } from)
            {
                query = query.Where(b => b.IngestedAt >= from);
            }

            if (selector.IngestedTo is { } to)
            {
                query = query.Where(b => b.IngestedAt < to);
            }

            if (selector.Upstream is { } upstream)
            {
                query = query.Where(b => b.Upstream == upstream);
            }

            var matched = await query.Select(b => new { b.BatchId, b.IngestedAt }).ToListAsync(ct);
            if (matched.Count == 0)
            {
                return ((ActionStatus.NoMatch,
                    $"no batch of dataset '{c.Dataset}' matches {selector.DescribeFilter()} (batches are selected by the ingestion time and upstream Ingest recorded); nothing was changed"), []);
            }

            selected.AddRange(matched.Where(m => !named.Contains(m.BatchId)).Select(m => (m.BatchId, m.IngestedAt)));
        }

        return (null, [.. selected.OrderBy(b => b.At ?? DateTimeOffset.MaxValue).ThenBy(b => b.Id).Select(b => b.Id)]);
    }

    private static ((ActionStatus Status, string Message)? Refusal, Plan? Plan) PlanTarget(RollbackCommand c, DatasetState state)
    {
        var node = state.Nodes.SingleOrDefault(n => n.Version == c.TargetVersion);
        if (node is null)
        {
            return ((ActionStatus.NotFound, $"dataset '{c.Dataset}' has no version {c.TargetVersion}"), null);
        }

        if (node.Tainted && !c.Force)
        {
            return ((ActionStatus.Conflict, $"v{node.Version} is tainted; set force to serve it anyway (audited); nothing was changed"), null);
        }

        var what = state.Serving?.Version == node.Version ? $"v{node.Version} already serves" : $"serving v{node.Version} instead of {(state.Serving is null ? "nothing" : $"v{state.Serving.Version}")}";
        return (null, Plan.ForTarget(node.Version, node.Tainted, node.Tainted ? $"{what} (tainted, forced)" : what));
    }

    private async Task<RollbackOutcome> ApplyAsync(RollbackCommand c, DatasetState state, Plan plan, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var declaredReason = $"declared corrupt by {c.Operator}: {c.Reason}";
        foreach (var batch in plan.Batches)
        {
            // Per batch, so the Trainer's and the Validator's exclusions (one batch per message) work unchanged.
            var taintedByThis = plan.Influence.Where(i => i.Batches.Contains(batch)).Select(i => i.Version).ToList();
            await batches.RecordAsync(c.Dataset, batch, BatchState.Corrupt, now, c.Operator, new { c.Reason, c.RequestId, taintedVersions = taintedByThis }, null, ct);
            await db.EnqueueAsync(new BatchDeclaredCorrupt
            {
                BatchId = batch,
                Dataset = c.Dataset,
                Operator = c.Operator,
                Reason = c.Reason,
                TaintedVersions = taintedByThis,
                CorrelationId = c.CorrelationId,
                DeclaredAt = now,
            }, c.CorrelationId, ct);
        }

        var tainted = state.Nodes.Where(n => n.Tainted).Select(n => n.Version).ToHashSet();
        foreach (var influence in plan.Influence)
        {
            var version = influence.Version;
            var by = state.TaintedBy[version].Concat(influence.Batches).Distinct().ToArray();
            if (tainted.Contains(version))
            {
                // Already tainted (its first reason stays); it now also names these batches.
                await db.Versions.Where(v => v.Dataset == c.Dataset && v.Version == version).ExecuteUpdateAsync(s => s.SetProperty(v => v.TaintedByBatches, by), ct);
                continue;
            }

            var which = influence.Batches.Count == 1 ? $"batch {influence.Batches[0]}" : $"batches {string.Join(", ", influence.Batches)}";
            var taintReason = $"{which} {declaredReason}";
            await db.Versions.Where(v => v.Dataset == c.Dataset && v.Version == version)
                .ExecuteUpdateAsync(s => s.SetProperty(v => v.Tainted, true).SetProperty(v => v.TaintedAt, now).SetProperty(v => v.TaintReason, taintReason)
                    .SetProperty(v => v.TaintedByBatch, influence.Batches[0]).SetProperty(v => v.TaintedByBatches, by), ct);
        }

        var generation = state.Serving?.Generation;
        if (plan.Target is { } target && target != state.Serving?.Version)
        {
            var v = await db.Versions.AsNoTracking().Where(x => x.Dataset == c.Dataset && x.Version == target).Select(x => new { x.Sha256, x.RunId }).SingleAsync(ct);
            generation = await registration.PromoteAsync(c.Dataset, target, v.Sha256, v.RunId, "rollback", c.Operator,
                new { c.RequestId, c.Reason, corruptBatchIds = plan.Batches, taintedVersions = plan.Influenced, forced = plan.Forced, previousVersion = state.Serving?.Version },
                c.CorrelationId, ct);
        }

        Guid? retrainId = null;
        if (c.Retrain && plan.Target is { } from)
        {
            retrainId = DerivedId("retrain", c.RequestId);
            await db.EnqueueAsync(new RequestRetrain
            {
                RequestId = retrainId.Value,
                Dataset = c.Dataset,
                FromVersion = from,
                RequestedBy = c.Operator,
                // The retrain may reach the Trainer before the BatchDeclaredCorrupt messages (another queue): it carries
                // the exclusions itself, and the Trainer applies them before it records the job.
                ExcludeBatchIds = plan.Batches.Count > 0 ? plan.Batches : null,
                ExcludeReason = plan.Batches.Count > 0 ? declaredReason : null,
                CorrelationId = c.CorrelationId,
            }, c.CorrelationId, ct);
        }

        return new RollbackOutcome(c.RequestId, c.Dataset, ActionStatus.Done, plan.Message, state.Serving?.Version, plan.Target ?? state.Serving?.Version, generation,
            plan.Batches.Count == 1 ? plan.Batches[0] : null, plan.Influenced, plan.Forced, retrainId, c.Operator, c.Reason,
            plan.Batches.Count > 0 ? plan.Batches : null, plan.Batches.Count > 0 ? plan.Influence : null, c.Batches.IsEmpty ? null : c.Batches);
    }

    /// <summary>
    /// A rollback from the bus that no configured operator key signed: nothing changes; it is logged and audited as
    /// refused under the actor <see cref="Unauthenticated"/> (the operator it names is a claim, kept in the details).
    /// </summary>
    public async Task RefuseUnauthenticatedAsync(RollbackCommand c, string why, CancellationToken ct)
    {
        db.Record(clock.GetUtcNow(), Unauthenticated, "rollback-refused", c.Dataset, new
        {
            status = ActionStatus.Unauthenticated, message = why, c.RequestId, claimedOperator = c.Operator, c.Reason, c.TargetVersion,
            batches = c.Batches.IsEmpty ? null : c.Batches, c.Force, c.Retrain, c.CorrelationId,
        });
        await db.SaveChangesAsync(ct);
        RegistryMetrics.RecordRollback(c.Dataset, ActionStatus.Unauthenticated);
        LogUnauthenticated(c.Dataset, c.RequestId, c.Operator, why);
    }

    /// <summary>The audit actor of a command that carried no valid operator signature.</summary>
    public const string Unauthenticated = "bus (unauthenticated)";

    private async Task<RollbackOutcome> RefuseAsync(RollbackCommand c, ActionStatus status, string message, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        var serving = await db.Promotions.AsNoTracking().Where(p => p.Dataset == c.Dataset && p.EndedAt == null).Select(p => new { p.Version, p.Generation }).SingleOrDefaultAsync(ct);
        var outcome = new RollbackOutcome(c.RequestId, c.Dataset, status, message, serving?.Version, serving?.Version, serving?.Generation,
            c.Batches.BatchIds.Count == 1 ? c.Batches.BatchIds[0] : null, [], false, null,
            string.IsNullOrWhiteSpace(c.Operator) ? "(unknown)" : c.Operator, c.Reason ?? string.Empty,
            c.Batches.BatchIds.Count > 0 ? c.Batches.BatchIds : null, null, c.Batches.IsEmpty ? null : c.Batches);
        db.Record(clock.GetUtcNow(), outcome.Operator, "rollback-refused", c.Dataset, new { outcome, c.TargetVersion, c.Force, c.Retrain });
        await db.SaveChangesAsync(ct);
        LogRefused(c.Dataset, c.RequestId, message);
        return outcome;
    }

    private static string Describe(IReadOnlyList<Guid> batches) => batches.Count switch
    {
        1 => $"batch {batches[0]}",
        <= 10 => $"{batches.Count} batches ({string.Join(", ", batches)})",
        _ => $"{batches.Count} batches ({string.Join(", ", batches.Take(10))} and {batches.Count - 10} more)",
    };

    private static string List(IEnumerable<int> versions) => string.Join(", ", versions.Select(v => $"v{v}")) is { Length: > 0 } s ? s : "no version";

    /// <summary>A stable id derived from the request's, so a repeated request enqueues the same command id.</summary>
    private static Guid DerivedId(string purpose, Guid requestId) =>
        new(SHA256.HashData(Encoding.UTF8.GetBytes($"{purpose}:{requestId}")).AsSpan(0, 16));

    [LoggerMessage(Level = LogLevel.Information, Message = "Rollback request {RequestId} for {Dataset} was already applied; repeated request ignored")]
    private partial void LogDuplicate(Guid requestId, string dataset);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rolled back {Dataset} from v{Previous} to v{Serving}, asked by {Operator}: {Message}")]
    private partial void LogRolledBack(string dataset, int? previous, int? serving, string @operator, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused rollback {RequestId} for {Dataset} from the bus, claiming operator {ClaimedOperator}: {Why}")]
    private partial void LogUnauthenticated(string dataset, Guid requestId, string claimedOperator, string why);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused rollback {RequestId} for {Dataset}: {Message}")]
    private partial void LogRefused(string dataset, Guid requestId, string message);
}
