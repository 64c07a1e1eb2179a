using Ctm.Contracts;
using Ctm.Registry.Extensions;
using Ctm.Registry.Models;
using Ctm.Registry.Storage;
using Ctm.ServiceDefaults.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Ctm.Registry.Serving;

/// <summary>One live replica's answer to a promotion: <c>loaded</c>, <c>refused</c> (with the reason) or <c>waiting</c>.</summary>
public sealed record ReplicaConfirmation(string Replica, ReplicaAnswer State, int? ServingVersion, string? Reason);

/// <summary>A replica's state for one dataset, as <c>GET /v1/datasets/{d}/serving</c> lists it.</summary>
public sealed record ReplicaStateDto(string Replica, bool Live, int? Version, long? Generation, DateTimeOffset? Since, DateTimeOffset LastSeen, RefusalDto? LastRefusal);

/// <summary>The last version a replica refused, and why.</summary>
public sealed record RefusalDto(int Version, long Generation, string Kind, string Reason, DateTimeOffset At);

/// <summary>
/// Keeps the serving record equal to what the Predictor replicas serve: a promotion becomes the record when a replica
/// confirms it loaded the version (<see cref="ModelLoaded"/>, or its periodic report), the record stays when replicas
/// refuse (<see cref="ModelLoadFailed"/>), and a request every live replica refused is closed as refused. Each change
/// is audited. Idempotent: every step compares with what is stored, under the dataset's lock.
/// </summary>
public sealed partial class ServingRecord(
    RegistryDbContext db,
    ModelRegistration registration,
    IOptions<ServingRecordOptions> options,
    TimeProvider clock,
    ILogger<ServingRecord> logger)
{
    /// <summary>The audit actions the serving record writes (the rest are operators' actions).</summary>
    public static readonly IReadOnlySet<string> AuditActions = new HashSet<string>(StringComparer.Ordinal) { "serving-confirmed", "replica-refused", "promotion-refused" };

    /// <summary>A replica loaded <paramref name="version"/> for <paramref name="generation"/>.</summary>
    public async Task ConfirmAsync(string dataset, string replica, int version, long generation, string sha256, DateTimeOffset loadedAt, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await TouchReplicaAsync(replica, now, null, ct);
        await registration.LockDatasetAsync(dataset, ct);
        await ApplyLoadedAsync(dataset, replica, version, generation, sha256, loadedAt, now, ct);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>A replica refused a version; the record does not change.</summary>
    public async Task RefuseAsync(ModelLoadFailed m, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await TouchReplicaAsync(m.Replica, now, null, ct);
        await registration.LockDatasetAsync(m.Dataset, ct);
        if (!await db.TryMarkProcessedAsync("model-load-failed", $"{m.Replica}:{m.Dataset}:{m.Version}:{m.Generation}:{m.FailedAt.UtcTicks}", ct))
        {
            return; // redelivered
        }

        var row = await RowAsync(m.Dataset, m.Replica, now, ct);
        if (row.Version is null && m.ServingVersion is { } still)
        {
            row.Version = still;
        }

        (row.RefusedVersion, row.RefusedGeneration, row.RefusalKind, row.RefusalReason, row.RefusedAt) = (m.Version, m.Generation, m.Kind, m.Reason, m.FailedAt);
        row.UpdatedAt = now;
        var record = await db.Promotions.AsNoTracking().Where(p => p.Dataset == m.Dataset && p.EndedAt == null).Select(p => (int?)p.Version).SingleOrDefaultAsync(ct);
        db.Record(now, m.Replica, "replica-refused", m.Dataset, new { m.Version, m.Generation, m.Replica, m.Kind, m.Reason, replicaServes = m.ServingVersion, recordServes = record });
        LogRefused(m.Dataset, m.Version, m.Generation, m.Replica, m.Reason);
        await db.SaveChangesAsync(ct);

        // A forged promotion may copy a real pending one's generation and version: its refusal says nothing about the real request.
        var request = m.Kind == "forged" ? null
            : await db.ServingRequests.SingleOrDefaultAsync(r => r.Dataset == m.Dataset && r.Generation == m.Generation && r.Version == m.Version, ct);
        if (request is { State: ServingState.Pending })
        {
            var answers = await AnswersAsync(m.Dataset, m.Generation, now, ct);
            if (answers.Count > 0 && answers.All(a => a.State == ReplicaAnswer.Refused))
            {
                request.State = ServingState.Refused;
                request.ResolvedAt = now;
                request.Resolution = string.Join("; ", answers.Select(a => $"{a.Replica}: {a.Reason}"));
                db.Record(now, "registry", "promotion-refused", m.Dataset, new
                {
                    request.Version, request.Generation, request.Reason, requestedBy = request.Actor, recordServes = record,
                    refusals = answers.Select(a => new { a.Replica, a.Reason }),
                });
                LogRequestRefused(m.Dataset, m.Version, m.Generation, record);
                await db.SaveChangesAsync(ct);
            }
        }

        await tx.CommitAsync(ct);
    }

    /// <summary>A replica's periodic report: it is live (or, stopping, no longer), and what it serves confirms those promotions.</summary>
    public async Task ReportAsync(PredictorReplicaReported m, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            await TouchReplicaAsync(m.Replica, now, m.IntervalSeconds, ct);
            if (m.Stopping == true)
            {
                await db.Replicas.Where(r => r.Replica == m.Replica).ExecuteUpdateAsync(s => s.SetProperty(r => r.StoppedAt, now), ct);
            }

            await tx.CommitAsync(ct);
        }

        if (m.Stopping == true)
        {
            return;
        }

        foreach (var s in m.Serving)
        {
            await ConfirmAsync(s.Dataset, m.Replica, s.Version, s.Generation, s.ArtifactSha256, s.Since, ct);
        }
    }

    /// <summary>Waits (at most <paramref name="timeout"/>) until every live replica has loaded or refused <paramref name="generation"/>; their answers.</summary>
    public async Task<IReadOnlyList<ReplicaConfirmation>> WaitAsync(string dataset, long generation, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = clock.GetUtcNow() + timeout;
        while (true)
        {
            db.ChangeTracker.Clear();
            var answers = await AnswersAsync(dataset, generation, clock.GetUtcNow(), ct);
            if (answers.All(a => a.State != ReplicaAnswer.Waiting) || clock.GetUtcNow() >= deadline)
            {
                return answers;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), clock, ct);
        }
    }

    /// <summary>The default wait of operators' actions, or the one they asked for (bounded).</summary>
    public TimeSpan WaitFor(int? seconds) => TimeSpan.FromSeconds(Math.Clamp(seconds ?? options.Value.ConfirmWaitSeconds, 0, 300));

    /// <summary>The answers in a sentence: who serves <paramref name="version"/>, who refused it and why, who did not answer in time.</summary>
    public static string Summarize(int version, IReadOnlyList<ReplicaConfirmation> answers)
    {
        if (answers.Count == 0)
        {
            return $"no live Predictor replica: v{version} becomes the serving record when one loads it";
        }

        var parts = new List<string>();
        if (answers.Where(a => a.State == ReplicaAnswer.Loaded).Select(a => a.Replica).ToList() is { Count: > 0 } loaded)
        {
            parts.Add($"v{version} serves on {string.Join(", ", loaded)}");
        }

        if (answers.Where(a => a.State == ReplicaAnswer.Refused).ToList() is { Count: > 0 } refused)
        {
            parts.Add($"refused by {string.Join("; ", refused.Select(a => $"{a.Replica} ({a.Reason})"))}"
                + (refused.Count == answers.Count ? $"; every live replica refused v{version}, the serving record is unchanged" : string.Empty));
        }

        if (answers.Where(a => a.State == ReplicaAnswer.Waiting).Select(a => a.Replica).ToList() is { Count: > 0 } waiting)
        {
            parts.Add($"no answer yet from {string.Join(", ", waiting)}");
        }

        return string.Join("; ", parts);
    }

    /// <summary>Every replica that serves or refused a version of <paramref name="dataset"/>, live ones first.</summary>
    public async Task<List<ReplicaStateDto>> ReplicasAsync(string dataset, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var rows = await db.ReplicaServing.AsNoTracking().Where(r => r.Dataset == dataset)
            .Join(db.Replicas, r => r.Replica, x => x.Replica, (r, x) => new { r, x })
            .ToListAsync(ct);
        return [.. rows
            .Select(x => new ReplicaStateDto(x.r.Replica, IsLive(x.x, now), x.r.Version, x.r.Generation, x.r.Since, x.x.LastSeen,
                x.r.RefusedVersion is { } v ? new RefusalDto(v, x.r.RefusedGeneration ?? 0, x.r.RefusalKind ?? "unknown", x.r.RefusalReason ?? string.Empty, x.r.RefusedAt ?? x.r.UpdatedAt) : null))
            .OrderByDescending(r => r.Live).ThenBy(r => r.Replica, StringComparer.Ordinal)];
    }

    private bool IsLive(ReplicaRecord r, DateTimeOffset now) =>
        r.StoppedAt is null && r.LastSeen + TimeSpan.FromSeconds(r.IntervalSeconds * (double)options.Value.LiveIntervals) >= now;

    private async Task<List<ReplicaConfirmation>> AnswersAsync(string dataset, long generation, DateTimeOffset now, CancellationToken ct)
    {
        var replicas = (await db.Replicas.AsNoTracking().Where(r => r.StoppedAt == null).ToListAsync(ct)).Where(r => IsLive(r, now)).ToList();
        var names = replicas.Select(r => r.Replica).ToList();
        var rows = await db.ReplicaServing.AsNoTracking().Where(r => r.Dataset == dataset && names.Contains(r.Replica)).ToDictionaryAsync(r => r.Replica, ct);
        return [.. names.Order(StringComparer.Ordinal).Select(name =>
        {
            var row = rows.GetValueOrDefault(name);
            return row switch
            {
                { Generation: { } g } when g >= generation => new ReplicaConfirmation(name, ReplicaAnswer.Loaded, row.Version, null),
                { RefusedGeneration: { } g } when g == generation => new ReplicaConfirmation(name, ReplicaAnswer.Refused, row.Version, $"{row.RefusalKind}: {row.RefusalReason}"),
                _ => new ReplicaConfirmation(name, ReplicaAnswer.Waiting, row?.Version, null),
            };
        })];
    }

    private async Task ApplyLoadedAsync(string dataset, string replica, int version, long generation, string sha256, DateTimeOffset loadedAt, DateTimeOffset now, CancellationToken ct)
    {
        var row = await RowAsync(dataset, replica, now, ct);
        if (row.Generation is { } known && known >= generation)
        {
            return; // already known (a redelivery, or a report repeating what it serves)
        }

        // Per-replica loads are state (replica_serving), not audit entries: the audit says when the record changed.
        (row.Version, row.Generation, row.Sha256, row.Since, row.UpdatedAt) = (version, generation, sha256, loadedAt, now);
        await db.SaveChangesAsync(ct);

        var record = await db.Promotions.SingleOrDefaultAsync(p => p.Dataset == dataset && p.EndedAt == null, ct);
        if (record is not null && record.Generation >= generation)
        {
            return;
        }

        var request = await db.ServingRequests.SingleOrDefaultAsync(r => r.Dataset == dataset && r.Generation == generation && r.Version == version, ct);
        if (request is null)
        {
            LogUnknownGeneration(dataset, version, generation, replica);
            return;
        }

        // The record changes when the first replica swapped it in (its clock, kept within what the Registry knows).
        var at = loadedAt > now ? now : loadedAt;
        if (record is not null)
        {
            at = at < record.PromotedAt ? record.PromotedAt : at;
            record.EndedAt = at;
            await db.SaveChangesAsync(ct);
        }

        db.Promotions.Add(new Promotion
        {
            Dataset = dataset, Version = version, Generation = generation, Reason = request.Reason, Actor = request.Actor, Details = request.Details, PromotedAt = at,
        });
        request.State = ServingState.Serving;
        request.ResolvedAt = now;
        request.Resolution = $"confirmed by {replica}";
        await db.ServingRequests.Where(r => r.Dataset == dataset && r.Generation < generation && r.State == ServingState.Pending)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.State, ServingState.Superseded).SetProperty(r => r.ResolvedAt, now)
                .SetProperty(r => r.Resolution, $"generation {generation} (v{version}) was confirmed first"), ct);
        db.Record(now, replica, "serving-confirmed", dataset, new
        {
            version, generation, since = at, confirmedBy = replica, previousVersion = record?.Version, request.Reason, requestedBy = request.Actor, requestedAt = request.RequestedAt,
        });
        await db.SaveChangesAsync(ct);
        LogConfirmed(dataset, version, generation, replica, record?.Version);
    }

    private async Task<ReplicaServingRecord> RowAsync(string dataset, string replica, DateTimeOffset now, CancellationToken ct)
    {
        var row = await db.ReplicaServing.SingleOrDefaultAsync(r => r.Dataset == dataset && r.Replica == replica, ct);
        if (row is null)
        {
            row = new ReplicaServingRecord { Dataset = dataset, Replica = replica, UpdatedAt = now };
            db.ReplicaServing.Add(row);
        }

        return row;
    }

    /// <summary>Marks the replica as heard from now (a replica first heard of through a load or refusal counts with a 5-second interval until it reports).</summary>
    private Task<int> TouchReplicaAsync(string replica, DateTimeOffset now, int? intervalSeconds, CancellationToken ct) => intervalSeconds is { } interval
        ? db.Database.ExecuteSqlAsync($"""
            INSERT INTO registry.replicas (replica, first_seen, last_seen, interval_seconds) VALUES ({replica}, {now}, {now}, {interval})
            ON CONFLICT (replica) DO UPDATE SET last_seen = GREATEST(replicas.last_seen, EXCLUDED.last_seen), interval_seconds = EXCLUDED.interval_seconds, stopped_at = NULL
            """, ct)
        : db.Database.ExecuteSqlAsync($"""
            INSERT INTO registry.replicas (replica, first_seen, last_seen, interval_seconds) VALUES ({replica}, {now}, {now}, 5)
            ON CONFLICT (replica) DO UPDATE SET last_seen = GREATEST(replicas.last_seen, EXCLUDED.last_seen)
            """, ct);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Dataset} v{Version} (generation {Generation}) serves: confirmed by replica {Replica}; the record had v{Previous}")]
    private partial void LogConfirmed(string dataset, int version, long generation, string replica, int? previous);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica {Replica} refused {Dataset} v{Version} (generation {Generation}): {Reason}")]
    private partial void LogRefused(string dataset, int version, long generation, string replica, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Every live replica refused {Dataset} v{Version} (generation {Generation}); the record keeps v{Record}")]
    private partial void LogRequestRefused(string dataset, int version, long generation, int? record);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} serves {Dataset} v{Version} for generation {Generation}, which the Registry never asked for")]
    private partial void LogUnknownGeneration(string dataset, int version, long generation, string replica);
}
