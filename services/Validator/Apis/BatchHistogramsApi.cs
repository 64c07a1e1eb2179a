using Ctm.Data.Drift;
using Ctm.Data.Statistics;
using Ctm.Data.Validation;
using Ctm.ServiceDefaults.Auth;
using Ctm.Validator.Storage;
using Ctm.Validator.Validation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Ctm.Validator.Apis;

/// <summary>
/// A batch as the console shows it, <c>GET /v1/batches/{id}/histograms</c>: its anomalies, and per feature the batch's
/// distribution beside its baseline's (the accepted batches it was decided against) on shared bins, as proportions so
/// samples of different sizes compare. Numbers, not a picture: the page draws them.
/// </summary>
public static class BatchHistogramsApi
{
    private const int NumericBins = 20;
    private const int MaxCategories = 12;

    public static IEndpointRouteBuilder MapBatchHistogramsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/batches/{id:guid}/histograms", GetAsync).RequireAuthorization(CtmPolicies.Read);
        return app;
    }

    public static async Task<Results<Ok<BatchHistogramsDto>, NotFound>> GetAsync(Guid id, DatasetStore store, ValidatorDbContext db, CancellationToken ct)
    {
        var batch = await db.Batches.AsNoTracking().SingleOrDefaultAsync(b => b.BatchId == id, ct);
        if (batch is null || await store.StatisticsAsync(id, ct) is not { } current)
        {
            return TypedResults.NotFound();
        }

        var baseline = batch.WindowBatchIds is { Length: > 0 } ids ? await store.MergeAsync(ids, ct) : null;
        // The decision's details hold warnings too; batches decided before details were kept have their reasons only.
        var anomalies = batch.Details is { } details
            ? details.Anomalies
            : AnomalyMapping.FromContract(batch.Reasons);
        var flagged = anomalies.Where(a => a.Feature is not null).Select(a => a.Feature!).ToHashSet(StringComparer.Ordinal);
        var drifted = anomalies.Where(a => a.Kind == AnomalyKind.Drift && a.Feature is not null).Select(a => a.Feature!).ToHashSet(StringComparer.Ordinal);
        var features = current.Columns.Select(c =>
        {
            var reference = baseline?.Column(c.Name);
            var drift = reference is null ? null : DriftDetector.Compare(reference, c);
            return new FeatureHistogram(
                c.Name, c.Numeric is not null ? "numeric" : c.Categorical is not null ? "categorical" : "empty",
                c.Count, c.Missing, reference?.Count, c.Numeric is { Count: > 0 } n ? n.Mean : null, reference?.Numeric is { Count: > 0 } rn ? rn.Mean : null,
                Bars(c, reference), drift?.Measure, drift?.Distance, drift?.PValue, drifted.Contains(c.Name), flagged.Contains(c.Name));
        }).ToList();
        return TypedResults.Ok(new BatchHistogramsDto(
            batch.BatchId, batch.Dataset, batch.Status, batch.RowCount, batch.SchemaVersion, batch.DecidedAt, batch.WindowBatchIds?.Length ?? 0, anomalies, features));
    }

    /// <summary>Bars on bins both sides share; the baseline's proportions are null when there is no baseline for the feature.</summary>
    internal static IReadOnlyList<HistogramBar> Bars(ColumnStatistics current, ColumnStatistics? reference)
    {
        if (current.Numeric is { Count: > 0 } cn)
        {
            var rn = reference?.Numeric is { Count: > 0 } r ? r : null;
            var (low, width) = SharedBins.NumericRange(cn, rn, NumericBins);
            var batchShare = SharedBins.Proportions(cn.Sketch, low, width, NumericBins);
            var baselineShare = rn is null ? null : SharedBins.Proportions(rn.Sketch, low, width, NumericBins);
            return [.. Enumerable.Range(0, NumericBins).Select(j => new HistogramBar(
                null, low + (j * width), low + ((j + 1) * width), batchShare[j], baselineShare?[j]))];
        }

        if (current.Categorical is { Count: > 0 } cc)
        {
            var rc = reference?.Categorical is { Count: > 0 } r ? r : null;
            return [.. SharedBins.TopCategories(cc, rc, MaxCategories).Select(k => new HistogramBar(k, null, null, SharedBins.Share(cc, k), rc is null ? null : SharedBins.Share(rc, k)))];
        }

        return [];
    }
}

/// <summary>A batch, its anomalies (blocking and warnings), and a histogram per feature beside its baseline's.</summary>
public sealed record BatchHistogramsDto(
    Guid BatchId, string Dataset, BatchStatus Status, long RowCount, int? SchemaVersion, DateTimeOffset DecidedAt, int BaselineBatches,
    IReadOnlyList<Anomaly> Anomalies, IReadOnlyList<FeatureHistogram> Features);

/// <summary>
/// One feature: its counts, means, bars, and the drift comparison with the baseline (null without one).
/// <c>Drifted</c>: the decision flagged drift on it; <c>Anomalous</c>: any anomaly names it.
/// </summary>
public sealed record FeatureHistogram(
    string Feature, string Kind, long Count, long Missing, long? BaselineCount, double? Mean, double? BaselineMean,
    IReadOnlyList<HistogramBar> Bars, string? Measure, double? Distance, double? PValue, bool Drifted, bool Anomalous);

/// <summary>One bar: a category (<c>Label</c>) or a numeric bin [<c>Low</c>, <c>High</c>); the share of the batch and of the baseline in it.</summary>
public sealed record HistogramBar(string? Label, double? Low, double? High, double Batch, double? Baseline);
