using Ctm.Registry.Models;
using Ctm.Registry.Storage;
using Ctm.ServiceDefaults.Storage;
using Microsoft.EntityFrameworkCore;

namespace Ctm.Registry.Policies;

/// <summary>The result of an operator's promotion action: done, or why not.</summary>
public sealed record OperatorActionResult(bool Ok, ActionStatus Status, string Message, int? ServingVersion = null, long? Generation = null)
{
    /// <summary>Each live replica's answer to the promotion, when the answer waited for them.</summary>
    public IReadOnlyList<Serving.ReplicaConfirmation>? Confirmations { get; init; }

    /// <summary>The answers in a sentence.</summary>
    public string? Confirmation { get; init; }

    public static OperatorActionResult Refused(ActionStatus status, string message) => new(false, status, message);
}

/// <summary>Operators' promotion actions: the policy, approvals and rejections. Each is audited.</summary>
public sealed class PromotionService(RegistryDbContext db, ModelRegistration registration, OutboxSignal signal, TimeProvider clock)
{
    public async Task<OperatorActionResult> SetPolicyAsync(string dataset, string mode, double tolerance, string? metric, string @operator, CancellationToken ct)
    {
        if (mode is not (PolicySettings.Auto or PolicySettings.Manual))
        {
            return OperatorActionResult.Refused(ActionStatus.Invalid, $"mode must be '{PolicySettings.Auto}' or '{PolicySettings.Manual}', not '{mode}'");
        }

        if (!double.IsFinite(tolerance) || tolerance < 0)
        {
            return OperatorActionResult.Refused(ActionStatus.Invalid, "tolerance must be a finite number >= 0 (how much worse the metric may be, absolute)");
        }

        if (string.IsNullOrWhiteSpace(@operator))
        {
            return OperatorActionResult.Refused(ActionStatus.Invalid, "operator is required");
        }

        var now = clock.GetUtcNow();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await registration.LockDatasetAsync(dataset, ct);
        var row = await db.Datasets.SingleOrDefaultAsync(d => d.Name == dataset, ct);
        if (row is null)
        {
            row = new DatasetRecord { Name = dataset, PolicyMode = mode, CreatedAt = now };
            db.Datasets.Add(row);
        }

        var before = new { mode = row.PolicyMode, tolerance = row.Tolerance, metric = row.Metric };
        row.PolicyMode = mode;
        row.Tolerance = tolerance;
        row.Metric = string.IsNullOrWhiteSpace(metric) ? null : metric;
        row.PolicyUpdatedBy = @operator;
        row.PolicyUpdatedAt = now;
        db.Record(now, @operator, "set-policy", dataset, new { before, after = new { mode, tolerance, metric = row.Metric } });
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return new OperatorActionResult(true, ActionStatus.Done, $"policy of '{dataset}': {mode}, tolerance {tolerance}, metric {row.Metric ?? "(default)"}");
    }

    /// <summary>An operator promotes a version the policy held back (pending, rejected or stale). A tainted version needs a forced rollback instead.</summary>
    public async Task<OperatorActionResult> ApproveAsync(string dataset, int version, string @operator, string? reason, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(@operator))
        {
            return OperatorActionResult.Refused(ActionStatus.Invalid, "operator is required");
        }

        OperatorActionResult result;
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            await registration.LockDatasetAsync(dataset, ct);
            var v = await db.Versions.AsNoTracking().Where(x => x.Dataset == dataset && x.Version == version).Select(x => new { x.Sha256, x.RunId, x.Tainted, x.TaintReason, x.Origin }).SingleOrDefaultAsync(ct);
            if (v is null)
            {
                return OperatorActionResult.Refused(ActionStatus.NotFound, $"dataset '{dataset}' has no version {version}");
            }

            if (v.Tainted)
            {
                return OperatorActionResult.Refused(ActionStatus.Conflict, $"v{version} is tainted ({v.TaintReason}); only a rollback with force can serve it");
            }

            var current = await registration.CurrentDecisionAsync(dataset, ct);
            var serving = current is { } c ? new { c.Version, c.Generation } : null;
            if (serving?.Version == version)
            {
                return OperatorActionResult.Refused(ActionStatus.Conflict, current!.Value.Confirmed ? $"v{version} already serves" : $"v{version} is already promoted (generation {serving.Generation}), waiting for the replicas to confirm");
            }

            var now = clock.GetUtcNow();
            db.Decisions.Add(new PromotionDecision
            {
                Dataset = dataset, Version = version, Decision = VerdictDecision.Approved, Basis = "operator", Mode = (await registration.PolicyAsync(dataset, ct)).Mode,
                Actor = @operator, Reason = reason, BaselineVersion = serving?.Version, At = now,
            });
            var correlation = Guid.NewGuid();
            var generation = await registration.PromoteAsync(dataset, version, v.Sha256, v.RunId, "manual", @operator, new { decision = VerdictDecision.Approved, reason, previousVersion = serving?.Version }, correlation, ct);
            db.Record(now, @operator, "approve", dataset, new { version, reason, previousVersion = serving?.Version, generation });
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            result = new OperatorActionResult(true, ActionStatus.Done, $"v{version} promoted (approved by {@operator}, generation {generation}); it serves once a replica confirms it loaded", version, generation);
        }

        signal.Notify();
        return result;
    }

    public async Task<OperatorActionResult> RejectAsync(string dataset, int version, string @operator, string? reason, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(@operator))
        {
            return OperatorActionResult.Refused(ActionStatus.Invalid, "operator is required");
        }

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await registration.LockDatasetAsync(dataset, ct);
        if (!await db.Versions.AnyAsync(x => x.Dataset == dataset && x.Version == version, ct))
        {
            return OperatorActionResult.Refused(ActionStatus.NotFound, $"dataset '{dataset}' has no version {version}");
        }

        if (await db.Promotions.AnyAsync(p => p.Dataset == dataset && p.EndedAt == null && p.Version == version, ct))
        {
            return OperatorActionResult.Refused(ActionStatus.Conflict, $"v{version} serves now; roll back to another version instead");
        }

        var now = clock.GetUtcNow();
        db.Decisions.Add(new PromotionDecision
        {
            Dataset = dataset, Version = version, Decision = VerdictDecision.Rejected, Basis = "operator", Mode = (await registration.PolicyAsync(dataset, ct)).Mode,
            Actor = @operator, Reason = reason, At = now,
        });
        db.Record(now, @operator, "reject", dataset, new { version, reason });
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return new OperatorActionResult(true, ActionStatus.Done, $"v{version} rejected by {@operator}");
    }
}
