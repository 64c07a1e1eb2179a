using System.Text.Json;
using Ctm.Registry.Models;
using Ctm.Registry.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;

namespace Ctm.Registry.Apis;

public static class ModelsApi
{
    public static IEndpointRouteBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1");
        api.MapGet("/serving", ListServingAsync);
        api.MapGet("/datasets/{dataset}/serving", GetServingAsync);
        api.MapGet("/datasets/{dataset}/versions", ListVersionsAsync);
        api.MapGet("/datasets/{dataset}/versions/{version:int}", GetVersionAsync);
        api.MapGet("/datasets/{dataset}/versions/{version:int}/artifact", GetArtifactAsync);
        return app;
    }

    public static async Task<Ok<List<ServingDto>>> ListServingAsync(RegistryDbContext db, ModelRegistration registration, CancellationToken ct)
    {
        var rows = await db.Promotions.AsNoTracking()
            .Where(p => p.EndedAt == null)
            .Join(db.Versions, p => new { p.Dataset, p.Version }, v => new { v.Dataset, v.Version }, (p, v) => new { p, v.Sha256 })
            .OrderBy(x => x.p.Dataset)
            .ToListAsync(ct);
        return TypedResults.Ok(rows.Select(x => ToServing(x.p, x.Sha256, registration)).ToList());
    }

    public static async Task<Results<Ok<ServingDto>, NotFound>> GetServingAsync(string dataset, RegistryDbContext db, ModelRegistration registration, CancellationToken ct)
    {
        var row = await db.Promotions.AsNoTracking()
            .Where(p => p.Dataset == dataset && p.EndedAt == null)
            .Join(db.Versions, p => new { p.Dataset, p.Version }, v => new { v.Dataset, v.Version }, (p, v) => new { p, v.Sha256 })
            .SingleOrDefaultAsync(ct);
        return row is null ? TypedResults.NotFound() : TypedResults.Ok(ToServing(row.p, row.Sha256, registration));
    }

    public static async Task<Ok<List<VersionDto>>> ListVersionsAsync(string dataset, RegistryDbContext db, CancellationToken ct)
    {
        var versions = await db.Versions.AsNoTracking().Where(v => v.Dataset == dataset).OrderBy(v => v.Version)
            .Select(v => new { v.Dataset, v.Version, v.RunId, v.ParentVersion, v.SchemaVersion, v.Task, v.Sha256, v.Size, v.Metrics, v.Engine, v.Origin, v.Tainted, v.CreatedAt })
            .ToListAsync(ct);
        var batches = await db.VersionBatches.AsNoTracking().Where(b => b.Dataset == dataset).ToListAsync(ct);
        return TypedResults.Ok(versions.Select(v => new VersionDto(
            v.Dataset, v.Version, v.RunId, v.ParentVersion, v.SchemaVersion, v.Task, v.Sha256, v.Size,
            JsonSerializer.Deserialize<Dictionary<string, double>>(v.Metrics, ModelRegistration.Json)!, v.Engine, v.Origin, v.Tainted, v.CreatedAt,
            [.. batches.Where(b => b.Version == v.Version).Select(b => b.BatchId).Order()])).ToList());
    }

    public static async Task<Results<Ok<VersionDto>, NotFound>> GetVersionAsync(string dataset, int version, RegistryDbContext db, CancellationToken ct)
    {
        var all = (await ListVersionsAsync(dataset, db, ct)).Value!;
        var found = all.SingleOrDefault(v => v.Version == version);
        return found is null ? TypedResults.NotFound() : TypedResults.Ok(found);
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

    private static ServingDto ToServing(Promotion p, string sha256, ModelRegistration registration) =>
        new(p.Dataset, p.Version, p.Generation, p.Reason, p.Actor, p.PromotedAt, registration.ArtifactLocation(p.Dataset, p.Version), sha256);
}

public sealed record ServingDto(string Dataset, int Version, long Generation, string Reason, string Actor, DateTimeOffset PromotedAt, string ArtifactLocation, string ArtifactSha256);

public sealed record VersionDto(
    string Dataset, int Version, Guid? RunId, int? ParentVersion, int? SchemaVersion, string Task, string Sha256, long Size,
    IReadOnlyDictionary<string, double> Metrics, string Engine, string Origin, bool Tainted, DateTimeOffset CreatedAt, IReadOnlyList<Guid> BatchIds);
