using Ctm.Contracts;
using Ctm.Registry.Lineage;
using Ctm.Registry.Policies;
using Ctm.Registry.Storage;
using Ctm.ServiceDefaults.Http;
using Ctm.ServiceDefaults.Signing;
using Ctm.ServiceDefaults.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Ctm.Registry.Models;

/// <summary>Registers versions with their lineage, decides their promotion by the dataset's policy, and promotes.</summary>
public sealed partial class ModelRegistration(
    RegistryDbContext db,
    IHttpClientFactory http,
    IOptions<ServiceUrls> urls,
    OutboxSignal signal,
    TimeProvider clock,
    DecisionSigner signer,
    ILogger<ModelRegistration> logger)
{
    public async Task RegisterAsync(ModelTrained message, CancellationToken ct)
    {
        if (await db.Versions.AnyAsync(v => v.RunId == message.RunId, ct))
        {
            LogDuplicate(message.RunId);
            return;
        }

        // Take ownership of the artifact: fetch it from the Trainer and check it is the announced one.
        var artifact = await http.RedeemClaimCheckAsync(message.ArtifactLocation, message.ArtifactSha256, ct);
        var sha256 = message.ArtifactSha256.ToLowerInvariant();

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await LockDatasetAsync(message.Dataset, ct);
        if (!await db.TryMarkProcessedAsync("register-model", message.RunId.ToString(), ct))
        {
            LogDuplicate(message.RunId);
            return;
        }

        var now = clock.GetUtcNow();
        var version = await NextVersionAsync(message.Dataset, ct);
        var batchIds = message.BatchIds.Distinct().ToArray();
        // Under the dataset lock, so a rollback either ran before (and this version arrives tainted) or runs after (and taints it).
        var (taintReason, taintBatch) = await TaintOfNewVersionAsync(message.Dataset, batchIds, message.ParentVersion, ct);
        db.Versions.Add(new ModelVersion
        {
            Dataset = message.Dataset,
            Version = version,
            RunId = message.RunId,
            ParentVersion = message.ParentVersion,
            SchemaVersion = message.SchemaVersion,
            Task = EnumText<TaskKind>.Name(message.Task),
            Artifact = artifact,
            Sha256 = sha256,
            Size = artifact.LongLength,
            Metrics = new(message.Metrics),
            SliceMetrics = message.SliceMetrics?.ToDictionary(s => s.Key, s => new Dictionary<string, double>(s.Value)),
            BaselineMetrics = message.BaselineMetrics is null ? null : new(message.BaselineMetrics),
            Parameters = new(message.Parameters),
            Engine = message.Engine,
            Device = message.Device,
            Seed = message.Seed,
            CodeVersion = message.CodeVersion,
            StartedAt = message.StartedAt,
            FinishedAt = message.FinishedAt,
            SamplesPerSecond = message.SamplesPerSecond,
            Origin = "trained",
            Tainted = taintReason is not null,
            TaintedAt = taintReason is null ? null : now,
            TaintReason = taintReason,
            TaintedByBatch = taintBatch,
            CreatedAt = now,
        });
        // Saved first: nothing tells EF that lineage rows reference the version row.
        await db.SaveChangesAsync(ct);
        db.VersionBatches.AddRange(batchIds.Select(b => new VersionBatch { Dataset = message.Dataset, Version = version, BatchId = b }));
        await db.SaveChangesAsync(ct);
        LogRegistered(message.Dataset, version, message.RunId, batchIds.Length);

        var stale = await StaleReasonAsync(message.Dataset, message.ParentVersion, message.StartedAt, ct);
        var candidate = new Candidate(version, message.Task, message.Metrics, message.BaselineMetrics, message.BaselineVersion, taintReason, stale)
        {
            NewClasses = message.Parameters.TryGetValue("newClasses", out var added) && !string.IsNullOrEmpty(added) ? added.Split(',') : [],
        };
        await DecideAndPromoteAsync(message.Dataset, candidate, message.RunId, message.CorrelationId, "registry", ct);
        await tx.CommitAsync(ct);
        signal.Notify();
    }

    /// <summary>Applies the dataset's policy to a just-registered version, records the decision, and promotes if it says so. Inside the caller's transaction and dataset lock.</summary>
    public async Task<Verdict> DecideAndPromoteAsync(string dataset, Candidate candidate, Guid? runId, Guid correlationId, string actor, CancellationToken ct)
    {
        var policy = await PolicyAsync(dataset, ct);
        var serving = await ServingVersionAsync(dataset, ct);
        var verdict = PromotionPolicy.Decide(candidate, serving, policy);
        db.Decisions.Add(new PromotionDecision
        {
            Dataset = dataset,
            Version = candidate.Version,
            Decision = verdict.Decision,
            Basis = verdict.Basis,
            Metric = verdict.Metric,
            CandidateValue = verdict.CandidateValue,
            BaselineValue = verdict.BaselineValue,
            BaselineVersion = verdict.BaselineVersion,
            Tolerance = policy.Tolerance,
            Mode = policy.Mode,
            Actor = actor,
            Reason = verdict.Reason,
            At = clock.GetUtcNow(),
        });
        await db.SaveChangesAsync(ct);
        LogDecided(dataset, candidate.Version, EnumText<VerdictDecision>.Name(verdict.Decision), verdict.Reason);
        if (verdict.Promotes)
        {
            var sha = await db.Versions.Where(v => v.Dataset == dataset && v.Version == candidate.Version).Select(v => v.Sha256).SingleAsync(ct);
            await PromoteAsync(dataset, candidate.Version, sha, runId, runId is null ? "external" : "trained", actor,
                new { decision = verdict.Decision, verdict.Basis, verdict.Metric, candidate = verdict.CandidateValue, baseline = verdict.BaselineValue, verdict.BaselineVersion, policy.Tolerance, verdict.Reason },
                correlationId, ct);
        }

        return verdict;
    }

    /// <summary>
    /// Asks for <paramref name="version"/> to serve, inside the caller's transaction: writes the next generation as a
    /// pending request and enqueues <see cref="ModelPromoted"/>. The serving record (promotions) changes only when a
    /// replica confirms it loaded the version (<see cref="Serving.ServingRecord"/>); older pending requests are superseded.
    /// </summary>
    public async Task<long> PromoteAsync(string dataset, int version, string sha256, Guid? runId, string reason, string actor, object details, Guid correlationId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var generation = Math.Max(
            await db.Promotions.Where(p => p.Dataset == dataset).MaxAsync(p => (long?)p.Generation, ct) ?? 0,
            await db.ServingRequests.Where(p => p.Dataset == dataset).MaxAsync(p => (long?)p.Generation, ct) ?? 0) + 1;
        await db.ServingRequests.Where(r => r.Dataset == dataset && r.State == ServingState.Pending)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.State, ServingState.Superseded).SetProperty(r => r.ResolvedAt, now)
                .SetProperty(r => r.Resolution, $"superseded by generation {generation} (v{version}) before any replica confirmed it"), ct);
        db.ServingRequests.Add(new ServingRequest
        {
            Dataset = dataset,
            Version = version,
            Generation = generation,
            Reason = reason,
            Actor = actor,
            Details = JsonColumns.Element(details),
            CorrelationId = correlationId,
            RequestedAt = now,
            State = ServingState.Pending,
        });
        await db.SaveChangesAsync(ct);
        var mapping = await db.Versions.Where(v => v.Dataset == dataset && v.Version == version).Select(v => v.InputMapping).SingleAsync(ct);
        await db.EnqueueAsync(new ModelPromoted
        {
            Dataset = dataset,
            Version = version,
            CorrelationId = correlationId,
            Generation = generation,
            ArtifactLocation = ArtifactLocation(dataset, version),
            ArtifactSha256 = sha256,
            RunId = runId,
            Reason = reason,
            PromotedAt = now,
            InputMapping = mapping,
            Signature = Sign(dataset, version, generation, sha256, mapping),
        }, correlationId, ct);
        LogPromoted(dataset, version, generation, reason);
        RegistryMetrics.RecordPromotion(dataset, reason);
        return generation;
    }

    /// <summary>
    /// The version the Registry last decided to serve: the newest pending request if a replica has yet to confirm it,
    /// else the serving record. Rollbacks and approvals compare against it, so they supersede a pending decision.
    /// </summary>
    public async Task<(int Version, long Generation, bool Confirmed)?> CurrentDecisionAsync(string dataset, CancellationToken ct)
    {
        var pending = await db.ServingRequests.AsNoTracking().Where(r => r.Dataset == dataset && r.State == ServingState.Pending)
            .OrderByDescending(r => r.Generation).Select(r => new { r.Version, r.Generation }).FirstOrDefaultAsync(ct);
        var record = await db.Promotions.AsNoTracking().Where(p => p.Dataset == dataset && p.EndedAt == null).Select(p => new { p.Version, p.Generation }).SingleOrDefaultAsync(ct);
        return pending is not null && (record is null || pending.Generation > record.Generation) ? (pending.Version, pending.Generation, false)
            : record is null ? null : (record.Version, record.Generation, true);
    }

    public async Task<PolicySettings> PolicyAsync(string dataset, CancellationToken ct)
    {
        var row = await db.Datasets.AsNoTracking().SingleOrDefaultAsync(d => d.Name == dataset, ct);
        return row is null ? PolicySettings.Default : new PolicySettings(row.PolicyMode, row.Tolerance, row.Metric);
    }

    public async Task<int> NextVersionAsync(string dataset, CancellationToken ct) =>
        (await db.Versions.Where(v => v.Dataset == dataset).MaxAsync(v => (int?)v.Version, ct) ?? 0) + 1;

    /// <summary>The Registry's signature of a promotion: replicas load only what it signed, so generations come from the Registry alone.</summary>
    public string Sign(string dataset, int version, long generation, string sha256, IReadOnlyDictionary<string, string>? inputMapping) =>
        signer.Sign(SignedPayload.Promotion(dataset, version, generation, sha256, inputMapping));

    public string ArtifactLocation(string dataset, int version) =>
        new Uri(ServiceUrls.Require(urls.Value.Registry, "Registry"), $"v1/datasets/{Uri.EscapeDataString(dataset)}/versions/{version}/artifact").ToString();

    /// <summary>Serializes every change to a dataset's versions and promotions (registration, decisions, rollbacks) for the rest of the transaction.</summary>
    public Task LockDatasetAsync(string dataset, CancellationToken ct) =>
        db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtext({"registry:" + dataset}))", ct);

    private async Task<ServingVersion?> ServingVersionAsync(string dataset, CancellationToken ct)
    {
        var row = await db.Promotions.AsNoTracking().Where(p => p.Dataset == dataset && p.EndedAt == null)
            .Join(db.Versions, p => new { p.Dataset, p.Version }, v => new { v.Dataset, v.Version }, (p, v) => new { v.Version, v.Metrics, v.Origin })
            .SingleOrDefaultAsync(ct);
        if (row is null)
        {
            return null;
        }

        return new ServingVersion(row.Version, row.Metrics is { Count: > 0 } ? row.Metrics : null);
    }

    private async Task<(string? Reason, Guid? Batch)> TaintOfNewVersionAsync(string dataset, Guid[] batchIds, int? parentVersion, CancellationToken ct)
    {
        var corrupt = await db.Batches.AsNoTracking().Where(b => batchIds.Contains(b.BatchId) && b.Status == BatchState.Corrupt).Select(b => b.BatchId).FirstOrDefaultAsync(ct);
        if (corrupt != Guid.Empty)
        {
            return ($"trained on batch {corrupt}, declared corrupt before this version was registered", corrupt);
        }

        if (parentVersion is { } p)
        {
            var parent = await db.Versions.AsNoTracking().Where(v => v.Dataset == dataset && v.Version == p).Select(v => new { v.Tainted, v.TaintedByBatch }).SingleOrDefaultAsync(ct);
            if (parent is { Tainted: true })
            {
                return ($"warm-started from tainted v{p}", parent.TaintedByBatch);
            }
        }

        return (null, null);
    }

    /// <summary>
    /// A run that began before a rollback, from a parent other than the rolled-back-to version, was trained on a view the
    /// operator overruled: it is registered but never promoted automatically.
    /// </summary>
    private async Task<string?> StaleReasonAsync(string dataset, int? parentVersion, DateTimeOffset startedAt, CancellationToken ct)
    {
        var current = await db.Promotions.AsNoTracking().Where(p => p.Dataset == dataset && p.EndedAt == null).SingleOrDefaultAsync(ct);
        if (current is null || current.Reason != "rollback" || parentVersion == current.Version || startedAt >= current.PromotedAt)
        {
            return null;
        }

        return $"training started {startedAt:O} from {(parentVersion is null ? "no parent" : $"v{parentVersion}")}, before the rollback to v{current.Version} at {current.PromotedAt:O}; an operator may still promote it";
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId} is already registered; redelivery ignored")]
    private partial void LogDuplicate(Guid runId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Registered {Dataset} v{Version} from run {RunId}, trained on {Batches} batches")]
    private partial void LogRegistered(string dataset, int version, Guid runId, int batches);

    [LoggerMessage(Level = LogLevel.Information, Message = "Promotion decision for {Dataset} v{Version}: {Decision} ({Reason})")]
    private partial void LogDecided(string dataset, int version, string decision, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Asked the replicas to serve {Dataset} v{Version} (generation {Generation}, {Reason}); the record follows their confirmation")]
    private partial void LogPromoted(string dataset, int version, long generation, string reason);
}
