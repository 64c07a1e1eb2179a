using System.Text.Json;
using Ctm.Contracts;
using Ctm.Validator.Storage;
using Ctm.Validator.Validation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Ctm.Validator.Apis;

public static class DatasetsApi
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly string[] Tasks = ["binary", "multiclass", "regression"];

    public static IEndpointRouteBuilder MapDatasetsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1");
        api.MapPut("/datasets/{dataset}/config", PutConfigAsync);
        api.MapGet("/datasets/{dataset}/config", GetConfigAsync);
        api.MapGet("/datasets/{dataset}/schema", GetSchemaAsync);
        api.MapGet("/datasets/{dataset}/batches", ListBatchesAsync);
        api.MapGet("/batches/{id:guid}", GetBatchAsync);
        return app;
    }

    public static async Task<Results<Ok<DatasetConfigDto>, ProblemHttpResult>> PutConfigAsync(
        string dataset, DatasetConfigDto body, ValidatorDbContext db, TimeProvider clock, CancellationToken ct)
    {
        if (body.Task is not null && !Tasks.Contains(body.Task))
        {
            return TypedResults.Problem(detail: $"task '{body.Task}' is not one of {string.Join(", ", Tasks)}", statusCode: 400, title: "Invalid dataset config");
        }

        var config = await db.Datasets.FindAsync([dataset], ct);
        if (config is null)
        {
            config = new DatasetConfig { Dataset = dataset };
            db.Datasets.Add(config);
        }

        config.LabelColumn = body.LabelColumn;
        config.Task = body.Task;
        config.UpdatedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(body);
    }

    public static async Task<Results<Ok<DatasetConfigDto>, NotFound>> GetConfigAsync(string dataset, ValidatorDbContext db, CancellationToken ct)
    {
        var config = await db.Datasets.AsNoTracking().SingleOrDefaultAsync(d => d.Dataset == dataset, ct);
        return config is null ? TypedResults.NotFound() : TypedResults.Ok(new DatasetConfigDto(config.LabelColumn, config.Task));
    }

    public static async Task<Results<Ok<SchemaDto>, NotFound>> GetSchemaAsync(string dataset, ValidatorDbContext db, CancellationToken ct)
    {
        var schema = await db.Schemas.AsNoTracking().Where(s => s.Dataset == dataset).OrderByDescending(s => s.Version).FirstOrDefaultAsync(ct);
        return schema is null
            ? TypedResults.NotFound()
            : TypedResults.Ok(new SchemaDto(schema.Version, JsonSerializer.Deserialize<DatasetSchema>(schema.Definition, Json)!, schema.Reason, schema.CreatedAt));
    }

    public static async Task<Ok<List<BatchDecisionDto>>> ListBatchesAsync(string dataset, ValidatorDbContext db, CancellationToken ct)
    {
        var batches = await db.Batches.AsNoTracking().Where(b => b.Dataset == dataset).OrderBy(b => b.DecidedAt).ToListAsync(ct);
        return TypedResults.Ok(batches.Select(ToDto).ToList());
    }

    public static async Task<Results<Ok<BatchDecisionDto>, NotFound>> GetBatchAsync(Guid id, ValidatorDbContext db, CancellationToken ct)
    {
        var batch = await db.Batches.AsNoTracking().SingleOrDefaultAsync(b => b.BatchId == id, ct);
        return batch is null ? TypedResults.NotFound() : TypedResults.Ok(ToDto(batch));
    }

    private static BatchDecisionDto ToDto(BatchDecision b) => new(
        b.BatchId, b.Dataset, b.Status, b.SchemaVersion, b.RowCount, b.Sha256, JsonSerializer.Deserialize<List<Anomaly>>(b.Reasons, Json)!, b.DecidedAt);
}

public sealed record DatasetConfigDto(string? LabelColumn, string? Task);

public sealed record SchemaDto(int Version, DatasetSchema Schema, string Reason, DateTimeOffset CreatedAt);

public sealed record BatchDecisionDto(Guid BatchId, string Dataset, string Status, int? SchemaVersion, long RowCount, string Sha256, IReadOnlyList<Anomaly> Reasons, DateTimeOffset DecidedAt);
