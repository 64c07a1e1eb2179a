using Ctm.ServiceDefaults.Auth;
using System.Globalization;
using System.Text.Json;
using Ctm.Contracts;
using Ctm.Registry.Lineage;
using Ctm.Registry.Models;
using Ctm.Registry.Policies;
using Ctm.Registry.Storage;
using Ctm.ServiceDefaults.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Ctm.Registry.Apis;

/// <summary>Read side of provenance: lineage, batches and their influence, serving history, decisions, the audit log, the lineage graph.</summary>
public static class ProvenanceApi
{
    public static IEndpointRouteBuilder MapProvenanceApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1").RequireAuthorization(CtmPolicies.Read);
        api.MapGet("/datasets/{dataset}/versions/{version:int}/lineage", GetLineageAsync);
        api.MapGet("/datasets/{dataset}/batches", ListBatchesAsync);
        api.MapGet("/batches/{batchId:guid}/versions", GetInfluenceAsync);
        api.MapGet("/datasets/{dataset}/serving/history", GetServingHistoryAsync);
        api.MapGet("/datasets/{dataset}/decisions", ListDecisionsAsync);
        api.MapGet("/datasets/{dataset}/audit", ListAuditAsync);
        api.MapGet("/audit", ListAllAuditAsync);
        api.MapGet("/datasets/{dataset}/lineage.svg", GetLineageSvgAsync);
        return app;
    }

    public static async Task<Results<Ok<LineageDto>, NotFound>> GetLineageAsync(string dataset, int version, RegistryDbContext db, CancellationToken ct)
    {
        var v = await db.Versions.AsNoTracking().SingleOrDefaultAsync(x => x.Dataset == dataset && x.Version == version, ct);
        if (v is null)
        {
            return TypedResults.NotFound();
        }

        var nodes = await NodesAsync(dataset, db, ct);
        var flags = await db.Versions.AsNoTracking().Where(x => x.Dataset == dataset).Select(x => new { x.Version, x.Tainted, x.Origin }).ToDictionaryAsync(x => x.Version, ct);
        var chain = LineageGraph.Ancestors(nodes, version).Select(p => new AncestorDto(p, flags[p].Tainted, flags[p].Origin)).ToList();
        var children = nodes.Where(n => n.Parent == version).Select(n => n.Version).Order().ToList();
        var batchIds = nodes.Single(n => n.Version == version).Batches.ToArray();
        var batches = await BatchesAsync(db.Batches.AsNoTracking().Where(b => batchIds.Contains(b.BatchId)), batchIds, dataset, db, ct);
        var decisions = await db.Decisions.AsNoTracking().Where(d => d.Dataset == dataset && d.Version == version).OrderBy(d => d.Id).ToListAsync(ct);
        var served = await db.Promotions.AsNoTracking().Where(p => p.Dataset == dataset && p.Version == version).OrderBy(p => p.Generation).ToListAsync(ct);
        return TypedResults.Ok(new LineageDto(
            dataset, version, v.Origin, v.Task, v.Sha256, v.Size, v.SchemaVersion, v.ParentVersion, v.Tainted, v.TaintReason, v.TaintedByBatch, v.TaintedAt,
            batches, chain, children,
            v.RunId is null ? null : new RunDto(v.RunId.Value, v.Parameters, v.Engine, v.Device, v.Seed, v.CodeVersion, v.StartedAt, v.FinishedAt, v.SamplesPerSecond),
            v.Origin == "external" ? new ExternalDto(v.UploadedBy, v.ExternalSource, v.Description, v.FileName, v.Sha256, v.InputMapping, v.CreatedAt) : null,
            [.. decisions.Select(ToDto)],
            [.. served.Select(ToDto)])
        {
            TaintedByBatches = TaintedBy(v.TaintedByBatches, v.TaintedByBatch),
        });
    }

    /// <summary>The batches a tainted version is tainted by; versions tainted at registration (or before the list existed) name one.</summary>
    internal static IReadOnlyList<Guid>? TaintedBy(Guid[]? batches, Guid? first) => batches ?? (first is { } b ? [b] : null);

    public static async Task<Ok<List<BatchDto>>> ListBatchesAsync(string dataset, RegistryDbContext db, CancellationToken ct)
    {
        var linked = await db.VersionBatches.AsNoTracking().Where(b => b.Dataset == dataset).Select(b => b.BatchId).Distinct().ToListAsync(ct);
        return TypedResults.Ok(await BatchesAsync(db.Batches.AsNoTracking().Where(b => b.Dataset == dataset), [.. linked], dataset, db, ct));
    }

    /// <summary>The versions a batch influenced: trained on it, and transitively warm-started from one that was.</summary>
    public static async Task<Results<Ok<InfluenceDto>, NotFound>> GetInfluenceAsync(Guid batchId, RegistryDbContext db, CancellationToken ct)
    {
        var dataset = await db.Batches.AsNoTracking().Where(b => b.BatchId == batchId).Select(b => b.Dataset).SingleOrDefaultAsync(ct)
            ?? await db.VersionBatches.AsNoTracking().Where(b => b.BatchId == batchId).Select(b => b.Dataset).FirstOrDefaultAsync(ct);
        if (dataset is null)
        {
            return TypedResults.NotFound();
        }

        var nodes = await NodesAsync(dataset, db, ct);
        var status = await db.Batches.AsNoTracking().Where(b => b.BatchId == batchId).Select(b => (BatchState?)b.Status).SingleOrDefaultAsync(ct);
        var direct = nodes.Where(n => n.Batches.Contains(batchId)).Select(n => n.Version).Order().ToList();
        var all = LineageGraph.InfluencedBy(nodes, batchId);
        return TypedResults.Ok(new InfluenceDto(batchId, dataset, status, direct, [.. all.Except(direct)], all));
    }

    public static async Task<Ok<List<ServingDto>>> GetServingHistoryAsync(string dataset, RegistryDbContext db, ModelRegistration registration, CancellationToken ct)
    {
        var rows = await db.Promotions.AsNoTracking().Where(p => p.Dataset == dataset).OrderBy(p => p.Generation)
            .Join(db.Versions, p => new { p.Dataset, p.Version }, v => new { v.Dataset, v.Version }, (p, v) => new { p, v.Sha256 })
            .ToListAsync(ct);
        return TypedResults.Ok(rows.Select(x => new ServingDto(x.p.Dataset, x.p.Version, x.p.Generation, x.p.Reason, x.p.Actor, x.p.PromotedAt, registration.ArtifactLocation(x.p.Dataset, x.p.Version), x.Sha256)
        {
            EndedAt = x.p.EndedAt,
        }).ToList());
    }

    public static async Task<Ok<List<DecisionDto>>> ListDecisionsAsync(string dataset, RegistryDbContext db, CancellationToken ct) =>
        TypedResults.Ok((await db.Decisions.AsNoTracking().Where(d => d.Dataset == dataset).OrderBy(d => d.Id).ToListAsync(ct)).Select(ToDto).ToList());

    public static async Task<Ok<List<AuditDto>>> ListAuditAsync(string dataset, RegistryDbContext db, CancellationToken ct) =>
        TypedResults.Ok((await db.Audit.AsNoTracking().Where(a => a.Dataset == dataset).OrderBy(a => a.Id).ToListAsync(ct)).Select(ToDto).ToList());

    public static async Task<Ok<List<AuditDto>>> ListAllAuditAsync(int? limit, RegistryDbContext db, CancellationToken ct) =>
        TypedResults.Ok((await db.Audit.AsNoTracking().OrderByDescending(a => a.Id).Take(Math.Clamp(limit ?? 200, 1, 10_000)).ToListAsync(ct)).Select(ToDto).ToList());

    public static async Task<ContentHttpResult> GetLineageSvgAsync(string dataset, RegistryDbContext db, CancellationToken ct)
    {
        var nodes = await NodesAsync(dataset, db, ct);
        var versions = await db.Versions.AsNoTracking().Where(v => v.Dataset == dataset).Select(v => new { v.Version, v.Origin, v.Task, v.Metrics, v.TaintedByBatch, v.TaintedByBatches }).ToDictionaryAsync(v => v.Version, ct);
        var batches = await db.Batches.AsNoTracking().Where(b => b.Dataset == dataset).Select(b => new SvgBatch(b.BatchId, b.Status)).ToListAsync(ct);
        var serving = await db.Promotions.AsNoTracking().Where(p => p.Dataset == dataset && p.EndedAt == null).Select(p => (int?)p.Version).SingleOrDefaultAsync(ct);
        var svg = LineageSvg.Render(dataset, [.. nodes.Select(n =>
        {
            var v = versions[n.Version];
            var metric = PromotionPolicy.PrimaryMetric(EnumText<TaskKind>.TryParse(v.Task, out var task) ? task : null, null);
            var text = v.Metrics.TryGetValue(metric, out var value) ? string.Create(CultureInfo.InvariantCulture, $"{metric} {value:0.###}") : null;
            return new SvgVersion(n.Version, n.Parent, n.Tainted, v.Origin, n.Batches, text) { TaintedBy = TaintedBy(v.TaintedByBatches, v.TaintedByBatch) };
        })], batches, serving);
        return TypedResults.Content(svg, "image/svg+xml");
    }

    internal static async Task<List<LineageNode>> NodesAsync(string dataset, RegistryDbContext db, CancellationToken ct)
    {
        var versions = await db.Versions.AsNoTracking().Where(v => v.Dataset == dataset).OrderBy(v => v.Version).Select(v => new { v.Version, v.ParentVersion, v.Tainted }).ToListAsync(ct);
        var links = (await db.VersionBatches.AsNoTracking().Where(b => b.Dataset == dataset).ToListAsync(ct)).ToLookup(b => b.Version, b => b.BatchId);
        return [.. versions.Select(v => new LineageNode(v.Version, v.ParentVersion, [.. links[v.Version]], v.Tainted))];
    }

    /// <summary>Batch rows with their history; a batch known only from a version's lineage (its events not seen) is listed as <c>unknown</c>.</summary>
    private static async Task<List<BatchDto>> BatchesAsync(IQueryable<BatchRecord> query, Guid[] alsoLinked, string dataset, RegistryDbContext db, CancellationToken ct)
    {
        var rows = await query.ToListAsync(ct);
        var ids = rows.Select(r => r.BatchId).Union(alsoLinked).ToArray();
        var history = (await db.BatchEvents.AsNoTracking().Where(e => ids.Contains(e.BatchId)).OrderBy(e => e.At).ThenBy(e => e.Id).ToListAsync(ct)).ToLookup(e => e.BatchId);
        var usedBy = (await db.VersionBatches.AsNoTracking().Where(b => b.Dataset == dataset && ids.Contains(b.BatchId)).ToListAsync(ct)).ToLookup(b => b.BatchId, b => b.Version);
        var byId = rows.ToDictionary(r => r.BatchId);
        return [.. ids.Select(id => byId.TryGetValue(id, out var r)
                ? new BatchDto(id, r.Dataset, EnumText<BatchState>.Name(r.Status), r.StatusAt, r.RowCount, r.Sha256, r.RowsLocation, r.StatisticsLocation, r.SchemaVersion, [.. usedBy[id].Order()], [.. history[id].Select(ToDto)])
                {
                    IngestedAt = r.IngestedAt,
                    Upstream = r.Upstream,
                }
                : new BatchDto(id, dataset, "unknown", null, null, null, null, null, null, [.. usedBy[id].Order()], []))
            .OrderBy(b => b.History is [var first, ..] ? first.At : DateTimeOffset.MaxValue)];
    }

    private static BatchEventDto ToDto(BatchEvent e) => new(e.Status, e.At, e.Actor, e.Details);

    private static DecisionDto ToDto(PromotionDecision d) =>
        new(d.Dataset, d.Version, d.Decision, d.Basis, d.Metric, d.CandidateValue, d.BaselineValue, d.BaselineVersion, d.Tolerance, d.Mode, d.Actor, d.Reason, d.At);

    private static ServingDto ToDto(Promotion p) => new(p.Dataset, p.Version, p.Generation, p.Reason, p.Actor, p.PromotedAt, string.Empty, string.Empty) { EndedAt = p.EndedAt };

    private static AuditDto ToDto(AuditEntry a) => new(a.Id, a.At, a.Actor, a.Action, a.Dataset, a.Details);
}

public sealed record LineageDto(
    string Dataset, int Version, string Origin, string Task, string Sha256, long Size, int? SchemaVersion, int? ParentVersion,
    bool Tainted, string? TaintReason, Guid? TaintedByBatch, DateTimeOffset? TaintedAt,
    IReadOnlyList<BatchDto> Batches, IReadOnlyList<AncestorDto> ParentChain, IReadOnlyList<int> Children,
    RunDto? Run, ExternalDto? External, IReadOnlyList<DecisionDto> Decisions, IReadOnlyList<ServingDto> Served)
{
    /// <summary>Every batch declared corrupt that taints this version (directly or through warm-start parents).</summary>
    public IReadOnlyList<Guid>? TaintedByBatches { get; init; }
}

public sealed record AncestorDto(int Version, bool Tainted, string Origin);

public sealed record RunDto(Guid RunId, IReadOnlyDictionary<string, string> Parameters, string Engine, string Device, int? Seed, string? CodeVersion, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, double? SamplesPerSecond);

public sealed record ExternalDto(string? UploadedBy, string? Source, string? Description, string? FileName, string Sha256, IReadOnlyDictionary<string, string>? InputMapping, DateTimeOffset UploadedAt);

public sealed record BatchDto(
    Guid BatchId, string Dataset, string Status, DateTimeOffset? StatusAt, long? RowCount, string? Sha256, string? RowsLocation, string? StatisticsLocation, int? SchemaVersion,
    IReadOnlyList<int> TrainedInto, IReadOnlyList<BatchEventDto> History)
{
    /// <summary>When Ingest stored the batch (rollbacks select by it).</summary>
    public DateTimeOffset? IngestedAt { get; init; }
    /// <summary>The upstream system its producer named (rollbacks select by it), or null.</summary>
    public string? Upstream { get; init; }
}

public sealed record BatchEventDto(BatchState Status, DateTimeOffset At, string? Actor, JsonElement? Details);

public sealed record InfluenceDto(Guid BatchId, string Dataset, BatchState? Status, IReadOnlyList<int> TrainedOn, IReadOnlyList<int> ThroughWarmStart, IReadOnlyList<int> Influenced);

public sealed record DecisionDto(
    string Dataset, int Version, VerdictDecision Decision, string Basis, string? Metric, double? CandidateValue, double? BaselineValue, int? BaselineVersion,
    double? Tolerance, string Mode, string Actor, string? Reason, DateTimeOffset At);

public sealed record AuditDto(long Id, DateTimeOffset At, string Actor, string Action, string Dataset, JsonElement Details);
