using Ctm.ServiceDefaults.Storage;
using Ctm.ServiceDefaults.Auth;
using Ctm.Data.Drift;
using Ctm.Data.Statistics;
using Ctm.Data.Validation;
using Ctm.Validator.Extensions;
using Ctm.Validator.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Ctm.Validator.Apis;

/// <summary>A batch's statistics, and its drift from the window it was compared with, as numbers and as a picture.</summary>
public static class StatisticsApi
{
    public static IEndpointRouteBuilder MapStatisticsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/batches/{id:guid}").RequireAuthorization(CtmPolicies.Read);
        api.MapGet("/statistics", GetStatisticsAsync);
        api.MapGet("/drift", GetDriftAsync);
        api.MapGet("/drift.svg", GetDriftSvgAsync);
        return app;
    }

    /// <summary>A readable summary; <c>?raw=true</c> gives the mergeable form (<c>BatchStatistics.ToJson()</c>), sketches included.</summary>
    public static async Task<Results<Ok<StatisticsSummary>, ContentHttpResult, NotFound>> GetStatisticsAsync(Guid id, bool? raw, ValidatorDbContext db, CancellationToken ct)
    {
        var json = await db.Statistics.AsNoTracking().Where(s => s.BatchId == id).Select(s => s.Statistics).SingleOrDefaultAsync(ct);
        if (json is null)
        {
            return TypedResults.NotFound();
        }

        return raw == true ? TypedResults.Content(json, "application/json") : TypedResults.Ok(StatisticsSummary.From(BatchStatistics.FromJson(json)));
    }

    /// <summary>Per feature: the batch against the window it was decided with (the same comparison as the decision).</summary>
    public static async Task<Results<Ok<List<DriftDto>>, NotFound>> GetDriftAsync(Guid id, DatasetStore store, ValidatorDbContext db, IOptions<ValidatorOptions> settings, CancellationToken ct)
    {
        var panels = await PanelsAsync(id, null, store, db, settings.Value, ct);
        return panels is null
            ? TypedResults.NotFound()
            : TypedResults.Ok(panels.Value.Panels.Select(p => new DriftDto(p.Feature, p.Result?.Measure, p.Result?.Distance, p.Result?.ExpectedNullDistance, p.Result?.PValue, p.Result?.ReferenceCount, p.Result?.CurrentCount, p.Flagged)).ToList());
    }

    /// <summary>Histograms of the batch against its window, one panel per feature (or only <c>?feature=</c>).</summary>
    public static async Task<Results<ContentHttpResult, NotFound>> GetDriftSvgAsync(Guid id, string? feature, DatasetStore store, ValidatorDbContext db, IOptions<ValidatorOptions> settings, CancellationToken ct)
    {
        var panels = await PanelsAsync(id, feature, store, db, settings.Value, ct);
        if (panels is null)
        {
            return TypedResults.NotFound();
        }

        var title = $"batch {id} ({panels.Value.Status}) vs the {panels.Value.WindowSize} accepted batch(es) before it";
        return TypedResults.Content(DriftChart.Render(title, panels.Value.Panels), "image/svg+xml");
    }

    private static async Task<(List<DriftPanel> Panels, string Status, int WindowSize)?> PanelsAsync(
        Guid id, string? feature, DatasetStore store, ValidatorDbContext db, ValidatorOptions settings, CancellationToken ct)
    {
        var batch = await db.Batches.AsNoTracking().SingleOrDefaultAsync(b => b.BatchId == id, ct);
        if (batch is null || await store.StatisticsAsync(id, ct) is not { } current)
        {
            return null;
        }

        var window = batch.WindowBatchIds is { Length: > 0 } ids ? await store.MergeAsync(ids, ct) : null;
        // Flagged as the decision flagged it: a drift anomaly on the feature, blocking or warning.
        var drifted = batch.Details is { } details
            ? details.Anomalies.Where(a => a.Kind == AnomalyKind.Drift && a.Feature is not null).Select(a => a.Feature!).ToHashSet(StringComparer.Ordinal)
            : [];
        var panels = new List<DriftPanel>();
        foreach (var column in current.Columns.Where(c => feature is null || c.Name == feature))
        {
            if (window?.Column(column.Name) is not { } reference)
            {
                continue;
            }

            var result = DriftDetector.Compare(reference, column);
            panels.Add(new DriftPanel(column.Name, reference, column, result, drifted.Contains(column.Name)));
        }

        return (panels, EnumText<BatchStatus>.Name(batch.Status), batch.WindowBatchIds?.Length ?? 0);
    }
}

public sealed record DriftDto(string Feature, string? Measure, double? Distance, double? ExpectedNullDistance, double? PValue, long? ReferenceCount, long? CurrentCount, bool Drifted);

/// <summary>Statistics a person reads: per column counts, moments, quantiles, a histogram, top values; and the label's distribution.</summary>
public sealed record StatisticsSummary(long RowCount, int BatchCount, string? LabelColumn, IReadOnlyList<ColumnSummary> Columns)
{
    public static StatisticsSummary From(BatchStatistics s) => new(s.RowCount, s.BatchCount, s.LabelColumn, [.. s.Columns.Select(ColumnSummary.From)]);
}

public sealed record ColumnSummary(
    string Name, string Type, long Count, long Missing, long NonNumeric, IReadOnlyList<string> NonNumericExamples, NumericSummary? Numeric, CategoricalSummary? Categorical)
{
    public static ColumnSummary From(ColumnStatistics c) => new(
        c.Name, c.Type.ToString().ToLowerInvariant(), c.Count, c.Missing, c.NonNumeric, c.NonNumericExamples,
        c.Numeric is { } n ? NumericSummary.From(n) : null,
        c.Categorical is { } k ? new CategoricalSummary(k.Count, k.DistinctCount, k.IsExact, [.. k.Top(20).Select(p => new ValueCount(p.Key, p.Value))]) : null);
}

public sealed record NumericSummary(
    long Count, long Zeros, long NaN, long Infinity, double? Mean, double? StandardDeviation, double? Min, double? Max,
    IReadOnlyDictionary<string, double> Quantiles, IReadOnlyList<HistogramBin> Histogram)
{
    private static readonly double[] Qs = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99];

    public static NumericSummary From(NumericStatistics n) => n.Count == 0
        ? new(0, n.Zeros, n.NaN, n.Infinity, null, null, null, null, new Dictionary<string, double>(), [])
        : new(n.Count, n.Zeros, n.NaN, n.Infinity, n.Mean, n.StandardDeviation, n.Min, n.Max,
            Qs.ToDictionary(q => $"p{q * 100:0}", n.Quantile), n.Histogram(20));
}

public sealed record CategoricalSummary(long Count, long Distinct, bool Exact, IReadOnlyList<ValueCount> Top);

public sealed record ValueCount(string Value, long Count);
