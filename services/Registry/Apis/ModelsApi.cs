using Ctm.ServiceDefaults.Auth;
using Ctm.Registry.Models;
using Ctm.Registry.Policies;
using Ctm.Registry.Serving;
using Ctm.Registry.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;

namespace Ctm.Registry.Apis;

public static class ModelsApi
{
    public static IEndpointRouteBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1").RequireAuthorization(CtmPolicies.Read);
        api.MapGet("/models", ListModelsAsync);
        api.MapGet("/serving", ListServingAsync);
        api.MapGet("/serving/pending", ListPendingAsync);
        api.MapGet("/datasets/{dataset}/serving", GetServingAsync);
        api.MapGet("/datasets/{dataset}/versions", ListVersionsAsync);
        api.MapGet("/datasets/{dataset}/versions/{version:int}", GetVersionAsync);
        api.MapGet("/datasets/{dataset}/versions/{version:int}/artifact", GetArtifactAsync);
        return app;
    }

    /// <summary>Every model name with registered versions: its versions, the version the record says serves, a promotion waiting for a replica, and whether a data stream feeds it.</summary>
    public static async Task<Ok<List<ModelDto>>> ListModelsAsync(RegistryDbContext db, CancellationToken ct)
    {
        var versions = await db.Versions.AsNoTracking().Select(v => new { v.Dataset, v.Version, v.Origin }).ToListAsync(ct);
        var serving = await db.Promotions.AsNoTracking().Where(p => p.EndedAt == null).ToDictionaryAsync(p => p.Dataset, p => p.Version, ct);
        var pending = (await db.ServingRequests.AsNoTracking().Where(r => r.State == ServingState.Pending).Select(r => new { r.Dataset, r.Version, r.Generation }).ToListAsync(ct))
            .GroupBy(r => r.Dataset).ToDictionary(g => g.Key, g => g.MaxBy(r => r.Generation)!.Version);
        var streams = (await db.Datasets.AsNoTracking().Where(d => d.Features != null).Select(d => d.Name).ToListAsync(ct)).ToHashSet(StringComparer.Ordinal);
        return TypedResults.Ok(versions.GroupBy(v => v.Dataset).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new ModelDto(g.Key, [.. g.Select(v => v.Version).Order()], serving.TryGetValue(g.Key, out var s) ? s : null, pending.TryGetValue(g.Key, out var p) ? p : null,
                streams.Contains(g.Key), g.All(v => v.Origin == "external") ? "external" : g.Any(v => v.Origin == "external") ? "mixed" : "trained"))
            .ToList());
    }

    public static async Task<Ok<List<ServingDto>>> ListServingAsync(RegistryDbContext db, ModelRegistration registration, CancellationToken ct)
    {
        var rows = await db.Promotions.AsNoTracking()
            .Where(p => p.EndedAt == null)
            .Join(db.Versions, p => new { p.Dataset, p.Version }, v => new { v.Dataset, v.Version }, (p, v) => new { p, v.Sha256, v.InputMapping })
            .OrderBy(x => x.p.Dataset)
            .ToListAsync(ct);
        return TypedResults.Ok(rows.Select(x => ToServing(x.p, x.Sha256, x.InputMapping, registration)).ToList());
    }

    /// <summary>Promotions no replica has confirmed yet (newest per dataset): a replica that starts loads them after the record.</summary>
    public static async Task<Ok<List<ServingDto>>> ListPendingAsync(RegistryDbContext db, ModelRegistration registration, CancellationToken ct)
    {
        var rows = await db.ServingRequests.AsNoTracking()
            .Where(r => r.State == ServingState.Pending)
            .Join(db.Versions, r => new { r.Dataset, r.Version }, v => new { v.Dataset, v.Version }, (r, v) => new { r, v.Sha256, v.InputMapping })
            .ToListAsync(ct);
        return TypedResults.Ok(rows.GroupBy(x => x.r.Dataset).Select(g => g.MaxBy(x => x.r.Generation)!).OrderBy(x => x.r.Dataset, StringComparer.Ordinal)
            .Select(x =>
            {
                var mapping = x.InputMapping;
                return new ServingDto(x.r.Dataset, x.r.Version, x.r.Generation, x.r.Reason, x.r.Actor, x.r.RequestedAt, registration.ArtifactLocation(x.r.Dataset, x.r.Version), x.Sha256)
                {
                    InputMapping = mapping,
                    Signature = registration.Sign(x.r.Dataset, x.r.Version, x.r.Generation, x.Sha256, mapping),
                };
            }).ToList());
    }

    /// <summary>
    /// What serves now — the version a replica confirmed it loaded — with each replica's state and any promotion still
    /// waiting for a confirmation; or with <paramref name="at"/> what served at that instant: one range query on the promotions.
    /// </summary>
    public static async Task<Results<Ok<ServingDto>, NotFound<NotServingDto>>> GetServingAsync(string dataset, DateTimeOffset? at, RegistryDbContext db, ModelRegistration registration, ServingRecord record, CancellationToken ct)
    {
        var promotions = db.Promotions.AsNoTracking().Where(p => p.Dataset == dataset);
        promotions = at is { } t
            ? promotions.Where(p => p.PromotedAt <= t && (p.EndedAt == null || p.EndedAt > t))
            : promotions.Where(p => p.EndedAt == null);
        var row = await promotions
            .Join(db.Versions, p => new { p.Dataset, p.Version }, v => new { v.Dataset, v.Version }, (p, v) => new { p, v.Sha256, v.InputMapping })
            .SingleOrDefaultAsync(ct);
        if (at is not null)
        {
            return row is null ? TypedResults.NotFound(new NotServingDto(dataset, $"nothing of '{dataset}' served at {at:O}", null, null)) : TypedResults.Ok(ToServing(row.p, row.Sha256, row.InputMapping, registration));
        }

        var replicas = await record.ReplicasAsync(dataset, ct);
        var pending = await db.ServingRequests.AsNoTracking().Where(r => r.Dataset == dataset && r.State == ServingState.Pending).OrderByDescending(r => r.Generation)
            .Select(r => new PendingDto(r.Version, r.Generation, r.Reason, r.Actor, r.RequestedAt)).FirstOrDefaultAsync(ct);
        return row is null
            ? TypedResults.NotFound(new NotServingDto(dataset, $"no replica has confirmed serving a version of '{dataset}'", pending, replicas))
            : TypedResults.Ok(ToServing(row.p, row.Sha256, row.InputMapping, registration) with { Replicas = replicas, Pending = pending });
    }

    /// <summary>Every version with its training-time metrics and, from the Trainer, its live quality (unknown, with the reason, when the Trainer does not answer).</summary>
    public static async Task<Ok<List<VersionDto>>> ListVersionsAsync(string dataset, RegistryDbContext db, LiveQuality live, CancellationToken ct) =>
        TypedResults.Ok(await WithLiveQualityAsync(dataset, await LoadVersionsAsync(dataset, null, db, ct), live, ct));

    public static async Task<Results<Ok<VersionDto>, NotFound>> GetVersionAsync(string dataset, int version, RegistryDbContext db, LiveQuality live, CancellationToken ct)
    {
        var found = (await LoadVersionsAsync(dataset, version, db, ct)).SingleOrDefault();
        return found is null ? TypedResults.NotFound() : TypedResults.Ok((await WithLiveQualityAsync(dataset, [found], live, ct))[0]);
    }

    private static async Task<List<VersionDto>> WithLiveQualityAsync(string dataset, List<VersionDto> versions, LiveQuality live, CancellationToken ct)
    {
        if (versions.Count == 0)
        {
            return versions;
        }

        var (byVersion, problem) = await live.GetAsync(dataset, ct);
        return [.. versions.Select(v => byVersion is null
            ? v with { LiveQualityProblem = problem }
            : v with { LiveQuality = byVersion.TryGetValue(v.Version, out var l) ? l : [] })];
    }

    public static async Task<Results<FileContentHttpResult, NotFound>> GetArtifactAsync(string dataset, int version, RegistryDbContext db, HttpResponse response, CancellationToken ct)
    {
        var row = await db.Versions.AsNoTracking().Where(v => v.Dataset == dataset && v.Version == version)
            .Select(v => new { v.Artifact, v.Sha256 }).SingleOrDefaultAsync(ct);
        if (row is null)
        {
            return TypedResults.NotFound();
        }

        response.Headers["X-Content-SHA256"] = row.Sha256;
        return TypedResults.File(row.Artifact, "application/octet-stream", $"{dataset}-v{version}.onnx", entityTag: new EntityTagHeaderValue($"\"{row.Sha256}\""));
    }

    private static async Task<List<VersionDto>> LoadVersionsAsync(string dataset, int? only, RegistryDbContext db, CancellationToken ct)
    {
        var query = db.Versions.AsNoTracking().Where(v => v.Dataset == dataset);
        if (only is { } o)
        {
            query = query.Where(v => v.Version == o);
        }

        var versions = await query.OrderBy(v => v.Version)
            .Select(v => new
            {
                v.Dataset, v.Version, v.RunId, v.ParentVersion, v.SchemaVersion, v.Task, v.Sha256, v.Size, v.Metrics, v.SliceMetrics, v.BaselineMetrics, v.Engine, v.Origin,
                v.Tainted, v.TaintReason, v.TaintedAt, v.TaintedByBatch, v.TaintedByBatches, v.CreatedAt, v.Description, v.UploadedBy, v.ExternalSource, v.InputMapping,
            })
            .ToListAsync(ct);
        var batchQuery = db.VersionBatches.AsNoTracking().Where(b => b.Dataset == dataset);
        if (only is { } b1)
        {
            batchQuery = batchQuery.Where(b => b.Version == b1);
        }

        var batches = (await batchQuery.ToListAsync(ct)).ToLookup(b => b.Version, b => b.BatchId);
        var decisions = (await db.Decisions.AsNoTracking().Where(d => d.Dataset == dataset).OrderBy(d => d.Id).Select(d => new { d.Version, d.Decision }).ToListAsync(ct))
            .GroupBy(d => d.Version).ToDictionary(g => g.Key, g => (VerdictDecision?)g.Last().Decision);
        return [.. versions.Select(v => new VersionDto(
            v.Dataset, v.Version, v.RunId, v.ParentVersion, v.SchemaVersion, v.Task, v.Sha256, v.Size,
            v.Metrics, v.Engine, v.Origin, v.Tainted, v.CreatedAt,
            [.. batches[v.Version].Order()])
        {
            SliceMetrics = v.SliceMetrics,
            BaselineMetrics = v.BaselineMetrics,
            TaintReason = v.TaintReason,
            TaintedAt = v.TaintedAt,
            TaintedByBatches = ProvenanceApi.TaintedBy(v.TaintedByBatches, v.TaintedByBatch),
            Decision = decisions.GetValueOrDefault(v.Version),
            Description = v.Description,
            UploadedBy = v.UploadedBy,
            ExternalSource = v.ExternalSource,
            InputMapping = v.InputMapping,
        })];
    }

    private static ServingDto ToServing(Promotion p, string sha256, IReadOnlyDictionary<string, string>? mapping, ModelRegistration registration) =>
        new(p.Dataset, p.Version, p.Generation, p.Reason, p.Actor, p.PromotedAt, registration.ArtifactLocation(p.Dataset, p.Version), sha256)
        {
            EndedAt = p.EndedAt,
            InputMapping = mapping,
            Signature = registration.Sign(p.Dataset, p.Version, p.Generation, sha256, mapping),
        };
}

public sealed record ServingDto(string Dataset, int Version, long Generation, string Reason, string Actor, DateTimeOffset PromotedAt, string ArtifactLocation, string ArtifactSha256)
{
    public DateTimeOffset? EndedAt { get; init; }

    /// <summary>Model input name → instance field, for an uploaded model whose inputs are not named after the features.</summary>
    public IReadOnlyDictionary<string, string>? InputMapping { get; init; }

    /// <summary>Each replica's state for the dataset (what it serves since when, the last version it refused and why); only for what serves now.</summary>
    public IReadOnlyList<ReplicaStateDto>? Replicas { get; init; }

    /// <summary>A newer promotion no replica has confirmed yet, if any.</summary>
    public PendingDto? Pending { get; init; }

    /// <summary>The Registry's signature of this decision, as on <c>ModelPromoted</c>: a replica that starts verifies it before loading.</summary>
    public string? Signature { get; init; }
}

/// <summary>A registered model name: <paramref name="DataStream"/> is false for a model uploaded with no dataset behind it; <paramref name="Origin"/> trained, external or mixed.</summary>
public sealed record ModelDto(string Name, IReadOnlyList<int> Versions, int? ServingVersion, int? PendingVersion, bool DataStream, string Origin);

/// <summary>A promotion waiting for a replica to confirm it.</summary>
public sealed record PendingDto(int Version, long Generation, string Reason, string Actor, DateTimeOffset RequestedAt);

/// <summary>The answer when no version serves: why, and what is on its way.</summary>
public sealed record NotServingDto(string Dataset, string Message, PendingDto? Pending, IReadOnlyList<ReplicaStateDto>? Replicas);

public sealed record VersionDto(
    string Dataset, int Version, Guid? RunId, int? ParentVersion, int? SchemaVersion, string Task, string Sha256, long Size,
    IReadOnlyDictionary<string, double> Metrics, string Engine, string Origin, bool Tainted, DateTimeOffset CreatedAt, IReadOnlyList<Guid> BatchIds)
{
    public IReadOnlyDictionary<string, Dictionary<string, double>>? SliceMetrics { get; init; }
    public IReadOnlyDictionary<string, double>? BaselineMetrics { get; init; }
    public string? TaintReason { get; init; }
    public DateTimeOffset? TaintedAt { get; init; }
    /// <summary>Every batch declared corrupt that taints this version (directly or through warm-start parents).</summary>
    public IReadOnlyList<Guid>? TaintedByBatches { get; init; }
    /// <summary>The latest promotion decision: promoted, pending, rejected, tainted, stale or approved.</summary>
    public VerdictDecision? Decision { get; init; }
    public string? Description { get; init; }
    public string? UploadedBy { get; init; }
    public string? ExternalSource { get; init; }
    public IReadOnlyDictionary<string, string>? InputMapping { get; init; }

    /// <summary>Live quality beside the training-time <see cref="Metrics"/>: per source and role, from the Trainer; empty when nothing was scored yet, null when unknown.</summary>
    public IReadOnlyList<LiveQualityDto>? LiveQuality { get; init; }

    /// <summary>Why <see cref="LiveQuality"/> is unknown (the Trainer did not answer), or null.</summary>
    public string? LiveQualityProblem { get; init; }
}
