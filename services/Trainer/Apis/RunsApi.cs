using Ctm.Ml;
using Ctm.ServiceDefaults.Auth;
using Ctm.Trainer.Charts;
using Ctm.Trainer.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;

namespace Ctm.Trainer.Apis;

public static class RunsApi
{
    public static IEndpointRouteBuilder MapRunsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1").RequireAuthorization(CtmPolicies.Read);
        api.MapGet("/datasets/{dataset}/runs", ListRunsAsync);
        api.MapGet("/datasets/{dataset}/jobs", ListJobsAsync);
        api.MapGet("/runs/{id:guid}", GetRunAsync);
        api.MapGet("/runs/{id:guid}/artifact", GetArtifactAsync);
        api.MapGet("/runs/{id:guid}/loss.svg", GetLossCurveAsync);
        return app;
    }

    public static async Task<Ok<List<RunDto>>> ListRunsAsync(string dataset, TrainerDbContext db, CancellationToken ct)
    {
        var runs = await db.Runs.AsNoTracking().Where(r => r.Dataset == dataset).OrderBy(r => r.FinishedAt)
            .Select(r => new { r.Id, r.Dataset, r.ParentVersion, r.BatchIds, r.SchemaVersion, r.Sha256, r.Metrics, r.LossCurve, r.Parameters, r.StartedAt, r.FinishedAt, r.SamplesPerSecond, r.BaselineVersion, r.BaselineMetrics, r.Device, r.Engine, r.HoldoutBatchId, r.WindowDescription, r.TrainedSamples, r.Mode, r.ModeReason })
            .ToListAsync(ct);
        return TypedResults.Ok(runs.Select(r => new RunDto(
            r.Id, r.Dataset, r.ParentVersion, r.BatchIds, r.SchemaVersion, r.Sha256,
            r.Metrics, r.LossCurve, r.Parameters,
            r.StartedAt, r.FinishedAt, r.SamplesPerSecond, r.BaselineVersion,
            r.BaselineMetrics, r.Device, r.Engine, r.HoldoutBatchId, r.WindowDescription,
            r.TrainedSamples, r.Mode, r.ModeReason)).ToList());
    }

    public static async Task<Results<Ok<RunDto>, NotFound>> GetRunAsync(Guid id, TrainerDbContext db, CancellationToken ct)
    {
        var dataset = await db.Runs.AsNoTracking().Where(r => r.Id == id).Select(r => r.Dataset).SingleOrDefaultAsync(ct);
        if (dataset is null)
        {
            return TypedResults.NotFound();
        }

        var runs = (await ListRunsAsync(dataset, db, ct)).Value!;
        return TypedResults.Ok(runs.Single(r => r.Id == id));
    }

    public static async Task<Ok<List<TrainingJob>>> ListJobsAsync(string dataset, TrainerDbContext db, CancellationToken ct) =>
        TypedResults.Ok(await db.Jobs.AsNoTracking().Where(j => j.Dataset == dataset).OrderBy(j => j.CreatedAt).ToListAsync(ct));

    public static async Task<Results<ContentHttpResult, NotFound>> GetLossCurveAsync(Guid id, TrainerDbContext db, CancellationToken ct)
    {
        var run = await db.Runs.AsNoTracking().Where(r => r.Id == id).Select(r => new { r.Dataset, r.LossCurve, r.FinishedAt }).SingleOrDefaultAsync(ct);
        if (run is null)
        {
            return TypedResults.NotFound();
        }

        var curve = run.LossCurve;
        var title = $"{run.Dataset} - run {id.ToString()[^8..]} - {run.FinishedAt:yyyy-MM-dd HH:mm:ss}Z";
        return TypedResults.Content(LossCurveSvg.Render(curve, title), "image/svg+xml");
    }

    public static async Task<Results<FileContentHttpResult, NotFound>> GetArtifactAsync(Guid id, TrainerDbContext db, HttpResponse response, CancellationToken ct)
    {
        var run = await db.Runs.AsNoTracking().Where(r => r.Id == id).Select(r => new { r.Artifact, r.Sha256 }).SingleOrDefaultAsync(ct);
        if (run is null)
        {
            return TypedResults.NotFound();
        }

        response.Headers["X-Content-SHA256"] = run.Sha256;
        return TypedResults.File(run.Artifact, "application/octet-stream", $"{id}.onnx", entityTag: new EntityTagHeaderValue($"\"{run.Sha256}\""));
    }
}

public sealed record RunDto(
    Guid Id, string Dataset, int? ParentVersion, Guid[] BatchIds, int SchemaVersion, string Sha256,
    ModelMetrics Metrics, double[] LossCurve, Dictionary<string, string> Parameters, DateTimeOffset StartedAt, DateTimeOffset FinishedAt, double SamplesPerSecond,
    int? BaselineVersion, Dictionary<string, double>? BaselineMetrics, string Device, string Engine, Guid? HoldoutBatchId, string Window,
    long TrainedSamples, string Mode, string? ModeReason);
