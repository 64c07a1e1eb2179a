using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Ctm.Contracts;
using Ctm.Registry.Lineage;
using Ctm.Registry.Models;
using Ctm.Registry.Storage;
using Ctm.ServiceDefaults.Storage;
using Microsoft.EntityFrameworkCore;

namespace Ctm.Registry.Rollbacks;

/// <summary>A rollback, from the bus or the API: a target version, or a batch to declare corrupt.</summary>
public sealed record RollbackCommand(
    Guid RequestId, string Dataset, int? TargetVersion, Guid? CorruptBatchId, string Reason, string Operator, bool Force, bool Retrain, Guid CorrelationId);

/// <summary>What a rollback did, or why it did nothing. Stored per request, so a repeated request returns the first answer.</summary>
public sealed record RollbackOutcome(
    Guid RequestId,
    string Dataset,
    string Status,
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
    bool Duplicate = false)
{
    public const string Done = "done";
    public const string Conflict = "conflict";
    public const string NotFound = "not-found";
    public const string Invalid = "invalid";
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
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<RollbackOutcome> RollbackAsync(RollbackCommand c, CancellationToken ct)
    {
        if ((c.TargetVersion is null) == (c.CorruptBatchId is null) || string.IsNullOrWhiteSpace(c.Operator) || string.IsNullOrWhiteSpace(c.Reason))
        {
            return await RefuseAsync(c, RollbackOutcome.Invalid, "name exactly one of targetVersion and corruptBatchId, with the operator and a reason", ct);
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
                return JsonSerializer.Deserialize<RollbackOutcome>(earlier.Outcome, Json)! with { Duplicate = true };
            }

            var state = await LoadAsync(c.Dataset, ct);
            var (refusal, plan) = c.CorruptBatchId is { } batch ? await PlanCorruptBatchAsync(c, batch, state, ct) : PlanTarget(c, state);
            if (refusal is not null)
            {
                // Nothing of this transaction is kept; the refusal itself is audited in its own.
                await tx.RollbackAsync(ct);
                return await RefuseAsync(c, refusal.Value.Status, refusal.Value.Message, ct);
            }

            outcome = await ApplyAsync(c, state, plan!, ct);
            db.RollbackRequests.Add(new RollbackRequestRecord { RequestId = c.RequestId, Dataset = c.Dataset, Outcome = JsonSerializer.Serialize(outcome, Json), At = clock.GetUtcNow() });
            db.Record(clock.GetUtcNow(), c.Operator, "rollback", c.Dataset, outcome);
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }

        signal.Notify();
        LogRolledBack(c.Dataset, outcome.PreviousVersion, outcome.ServingVersion, c.Operator, outcome.Message);
        return outcome;
    }

    private sealed record DatasetState(List<LineageNode> Nodes, Promotion? Serving, HashSet<int> EverServed);

    private sealed record Plan(int? Target, IReadOnlyList<int> NewlyTainted, IReadOnlyList<int> Influenced, bool Forced, string Message);

    private async Task<DatasetState> LoadAsync(string dataset, CancellationToken ct)
    {
        var versions = await db.Versions.AsNoTracking().Where(v => v.Dataset == dataset).Select(v => new { v.Version, v.ParentVersion, v.Tainted }).ToListAsync(ct);
        var links = (await db.VersionBatches.AsNoTracking().Where(b => b.Dataset == dataset).ToListAsync(ct)).ToLookup(b => b.Version, b => b.BatchId);
        var serving = await db.Promotions.AsNoTracking().SingleOrDefaultAsync(p => p.Dataset == dataset && p.EndedAt == null, ct);
        var everServed = (await db.Promotions.AsNoTracking().Where(p => p.Dataset == dataset).Select(p => p.Version).Distinct().ToListAsync(ct)).ToHashSet();
        var nodes = versions.Select(v => new LineageNode(v.Version, v.ParentVersion, [.. links[v.Version]], v.Tainted)).ToList();
        return new DatasetState(nodes, serving, everServed);
    }

    private async Task<((string Status, string Message)? Refusal, Plan? Plan)> PlanCorruptBatchAsync(RollbackCommand c, Guid batch, DatasetState state, CancellationToken ct)
    {
        var known = await db.Batches.AsNoTracking().Where(b => b.BatchId == batch).Select(b => b.Dataset).SingleOrDefaultAsync(ct);
        if (known is not null && known != c.Dataset)
        {
            return ((RollbackOutcome.NotFound, $"batch {batch} belongs to dataset '{known}', not '{c.Dataset}'"), null);
        }

        var influenced = LineageGraph.InfluencedBy(state.Nodes, batch);
        if (known is null && influenced.Count == 0)
        {
            return ((RollbackOutcome.NotFound, $"batch {batch} is unknown to the Registry for dataset '{c.Dataset}'"), null);
        }

        var previouslyTainted = state.Nodes.Where(n => n.Tainted).Select(n => n.Version).ToHashSet();
        var tainted = previouslyTainted.Union(influenced).ToHashSet();
        var serving = state.Serving?.Version;
        var target = LineageGraph.ChooseClean([.. state.Nodes.Select(n => n.Version)], tainted, serving, state.EverServed);
        if (target is null && serving is not null)
        {
            var message = $"no clean version to serve: batch {batch} influenced {List(influenced)}"
                + (previouslyTainted.Count > 0 ? $", and {List(previouslyTainted.Order())} were already tainted" : string.Empty)
                + (state.Nodes.Count > tainted.Count ? $"; the clean {List(state.Nodes.Select(n => n.Version).Where(v => !tainted.Contains(v)).Order())} never served (promote one with a target-version rollback)" : string.Empty)
                + "; nothing was changed";
            return ((RollbackOutcome.Conflict, message), null);
        }

        var newly = influenced.Where(v => !previouslyTainted.Contains(v)).ToList();
        var what = target == serving
            ? $"v{serving} is clean and keeps serving"
            : target is null ? "nothing serves this dataset" : $"serving v{target} instead of v{serving}";
        return (null, new Plan(target, newly, influenced, false, $"batch {batch} declared corrupt; tainted {List(influenced)}; {what}"));
    }

    private static ((string Status, string Message)? Refusal, Plan? Plan) PlanTarget(RollbackCommand c, DatasetState state)
    {
        var node = state.Nodes.SingleOrDefault(n => n.Version == c.TargetVersion);
        if (node is null)
        {
            return ((RollbackOutcome.NotFound, $"dataset '{c.Dataset}' has no version {c.TargetVersion}"), null);
        }

        if (node.Tainted && !c.Force)
        {
            return ((RollbackOutcome.Conflict, $"v{node.Version} is tainted; set force to serve it anyway (audited); nothing was changed"), null);
        }

        var what = state.Serving?.Version == node.Version ? $"v{node.Version} already serves" : $"serving v{node.Version} instead of {(state.Serving is null ? "nothing" : $"v{state.Serving.Version}")}";
        return (null, new Plan(node.Version, [], [], node.Tainted, node.Tainted ? $"{what} (tainted, forced)" : what));
    }

    private async Task<RollbackOutcome> ApplyAsync(RollbackCommand c, DatasetState state, Plan plan, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        if (c.CorruptBatchId is { } batch)
        {
            await batches.RecordAsync(c.Dataset, batch, BatchTracker.Corrupt, now, c.Operator, new { c.Reason, c.RequestId, taintedVersions = plan.Influenced }, null, ct);
            if (plan.NewlyTainted.Count > 0)
            {
                var ids = plan.NewlyTainted.ToArray();
                var taintReason = $"batch {batch} declared corrupt by {c.Operator}: {c.Reason}";
                await db.Versions.Where(v => v.Dataset == c.Dataset && ids.Contains(v.Version))
                    .ExecuteUpdateAsync(s => s.SetProperty(v => v.Tainted, true).SetProperty(v => v.TaintedAt, now).SetProperty(v => v.TaintReason, taintReason).SetProperty(v => v.TaintedByBatch, batch), ct);
            }

            await db.EnqueueAsync(new BatchDeclaredCorrupt
            {
                BatchId = batch,
                Dataset = c.Dataset,
                Operator = c.Operator,
                Reason = c.Reason,
                TaintedVersions = plan.Influenced,
                CorrelationId = c.CorrelationId,
                DeclaredAt = now,
            }, c.CorrelationId, ct);
        }

        var generation = state.Serving?.Generation;
        if (plan.Target is { } target && target != state.Serving?.Version)
        {
            var v = await db.Versions.AsNoTracking().Where(x => x.Dataset == c.Dataset && x.Version == target).Select(x => new { x.Sha256, x.RunId }).SingleAsync(ct);
            generation = await registration.PromoteAsync(c.Dataset, target, v.Sha256, v.RunId, "rollback", c.Operator,
                new { c.RequestId, c.Reason, c.CorruptBatchId, taintedVersions = plan.Influenced, forced = plan.Forced, previousVersion = state.Serving?.Version },
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
                CorrelationId = c.CorrelationId,
            }, c.CorrelationId, ct);
        }

        return new RollbackOutcome(c.RequestId, c.Dataset, RollbackOutcome.Done, plan.Message, state.Serving?.Version, plan.Target ?? state.Serving?.Version, generation,
            c.CorruptBatchId, plan.Influenced, plan.Forced, retrainId, c.Operator, c.Reason);
    }

    private async Task<RollbackOutcome> RefuseAsync(RollbackCommand c, string status, string message, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        var serving = await db.Promotions.AsNoTracking().Where(p => p.Dataset == c.Dataset && p.EndedAt == null).Select(p => new { p.Version, p.Generation }).SingleOrDefaultAsync(ct);
        var outcome = new RollbackOutcome(c.RequestId, c.Dataset, status, message, serving?.Version, serving?.Version, serving?.Generation, c.CorruptBatchId, [], false, null,
            string.IsNullOrWhiteSpace(c.Operator) ? "(unknown)" : c.Operator, c.Reason ?? string.Empty);
        db.Record(clock.GetUtcNow(), outcome.Operator, "rollback-refused", c.Dataset, new { outcome, c.TargetVersion, c.Force, c.Retrain });
        await db.SaveChangesAsync(ct);
        LogRefused(c.Dataset, c.RequestId, message);
        return outcome;
    }

    private static string List(IEnumerable<int> versions) => string.Join(", ", versions.Select(v => $"v{v}")) is { Length: > 0 } s ? s : "no version";

    /// <summary>A stable id derived from the request's, so a repeated request enqueues the same command id.</summary>
    private static Guid DerivedId(string purpose, Guid requestId) =>
        new(SHA256.HashData(Encoding.UTF8.GetBytes($"{purpose}:{requestId}")).AsSpan(0, 16));

    [LoggerMessage(Level = LogLevel.Information, Message = "Rollback request {RequestId} for {Dataset} was already applied; repeated request ignored")]
    private partial void LogDuplicate(Guid requestId, string dataset);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rolled back {Dataset} from v{Previous} to v{Serving}, asked by {Operator}: {Message}")]
    private partial void LogRolledBack(string dataset, int? previous, int? serving, string @operator, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused rollback {RequestId} for {Dataset}: {Message}")]
    private partial void LogRefused(string dataset, Guid requestId, string message);
}
