using Ctm.ServiceDefaults.Auth;
using System.Text.Json;
using Ctm.Contracts;
using Ctm.Data.Drift;
using Ctm.Data.Statistics;
using Ctm.Validator.Extensions;
using Ctm.Validator.Skew;
using Ctm.ServiceDefaults.Storage;
using Ctm.Validator.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Ctm.Validator.Apis;

/// <summary>
/// Training/serving skew. Serving statistics arrive on the bus (<c>ServingStatisticsReported</c>, from the Predictor)
/// or here; each report is checked against the training baseline of the version that served.
/// </summary>
public static class SkewApi
{
    public static IEndpointRouteBuilder MapSkewApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/datasets/{dataset}").RequireAuthorization(CtmPolicies.Read);
        api.MapPost("/serving-statistics", PostServingStatisticsAsync).RequireAuthorization(CtmPolicies.Report);
        api.MapGet("/skew", GetSkewAsync);
        api.MapGet("/skew/{id:guid}.svg", GetSkewSvgAsync);
        return app;
    }

    /// <summary>Body: <c>{"modelVersion": 3, "replica": "p1", "sampledRows": 500, "servedRows": 5000, "statistics": {...BatchStatistics JSON...}}</c>.</summary>
    public static async Task<Results<Ok<SkewReportDto>, ProblemHttpResult>> PostServingStatisticsAsync(string dataset, ServingStatisticsRequest body, SkewService skew, TimeProvider clock, CancellationToken ct)
    {
        if (body.Statistics is not { ValueKind: JsonValueKind.Object } statistics || body.ModelVersion is not { } version)
        {
            return TypedResults.Problem(detail: "'modelVersion' and 'statistics' (an object in the form of BatchStatistics.ToJson()) are required", statusCode: 400, title: "Invalid serving statistics");
        }

        BatchStatistics parsed;
        try
        {
            parsed = BatchStatistics.FromJson(statistics.GetRawText());
        }
        catch (JsonException e)
        {
            return TypedResults.Problem(detail: $"'statistics' is not in the form of BatchStatistics.ToJson(): {e.Message}", statusCode: 400, title: "Invalid serving statistics");
        }

        var now = clock.GetUtcNow();
        var message = new ServingStatisticsReported
        {
            Dataset = dataset,
            ModelVersion = version,
            Replica = body.Replica ?? "api",
            WindowStart = body.WindowStart ?? now,
            WindowEnd = body.WindowEnd ?? now,
            SampledRows = body.SampledRows ?? parsed.RowCount,
            ServedRows = body.ServedRows ?? parsed.RowCount,
            Statistics = parsed.ToJson(),
            CorrelationId = Guid.NewGuid(),
        };
        return TypedResults.Ok(SkewReportDto.From(await skew.CheckAsync(Guid.CreateVersion7(), message, ct)));
    }

    /// <summary>Recent skew reports, newest first (<c>?version=</c> for one model version).</summary>
    public static async Task<Ok<List<SkewReportDto>>> GetSkewAsync(string dataset, int? version, ValidatorDbContext db, CancellationToken ct)
    {
        var reports = await db.SkewReports.AsNoTracking()
            .Where(r => r.Dataset == dataset && (version == null || r.ModelVersion == version))
            .OrderByDescending(r => r.CreatedAt).Take(50).ToListAsync(ct);
        return TypedResults.Ok(reports.Select(SkewReportDto.From).ToList());
    }

    /// <summary>Histograms of serving inputs against the training baseline, one panel per feature.</summary>
    public static async Task<Results<ContentHttpResult, NotFound>> GetSkewSvgAsync(
        string dataset, Guid id, ValidatorDbContext db, DatasetStore store, IOptions<ValidatorOptions> settings, CancellationToken ct)
    {
        var report = await db.SkewReports.AsNoTracking().SingleOrDefaultAsync(r => r.Id == id && r.Dataset == dataset, ct);
        if (report is null)
        {
            return TypedResults.NotFound();
        }

        var serving = BatchStatistics.FromJson(report.Statistics);
        var baseline = await store.MergeAsync(report.BaselineBatchIds, ct);
        var schema = await store.CurrentSchemaAsync(dataset, ct);
        var thresholds = schema is null ? null : await store.WithThresholdsAsync(dataset, schema.Data, ct);
        var panels = new List<DriftPanel>();
        foreach (var column in serving.Columns)
        {
            if (baseline?.Column(column.Name) is { } reference)
            {
                var result = DriftDetector.Compare(reference, column);
                var limits = thresholds?.Find(column.Name)?.Skew ?? settings.Value.DefaultSkew;
                panels.Add(new DriftPanel(column.Name, reference, column, result, result?.Exceeds(limits) == true));
            }
        }

        var title = $"{dataset} v{report.ModelVersion} serving ({report.Replica}, {report.SampledRows} rows) vs its training baseline ({report.BaselineBatchIds.Length} batches): {report.Status}";
        return TypedResults.Content(DriftChart.Render(title, panels, "SKEWED"), "image/svg+xml");
    }
}

public sealed record ServingStatisticsRequest(int? ModelVersion, string? Replica, DateTimeOffset? WindowStart, DateTimeOffset? WindowEnd, long? SampledRows, long? ServedRows, JsonElement? Statistics);

/// <summary>A skew check: <c>status</c> is ok, skewed or no-baseline; <c>anomalies</c> has a sentence per skewed feature.</summary>
public sealed record SkewReportDto(
    Guid Id, string Dataset, int ModelVersion, string Replica, DateTimeOffset WindowStart, DateTimeOffset WindowEnd, long SampledRows, long ServedRows,
    string Status, Guid[] BaselineBatchIds, JsonElement Anomalies, DateTimeOffset CreatedAt)
{
    public static SkewReportDto From(SkewReport r) => new(
        r.Id, r.Dataset, r.ModelVersion, r.Replica, r.WindowStart, r.WindowEnd, r.SampledRows, r.ServedRows, r.Status, r.BaselineBatchIds, JsonColumns.Element(r.Anomalies, DataJson.Options), r.CreatedAt);
}
