using Ctm.Ml;
using Ctm.ServiceDefaults.Auth;
using System.Text.Json;
using Ctm.Trainer.Charts;
using Ctm.Trainer.Quality;
using Ctm.Trainer.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Ctm.Trainer.Apis;

/// <summary>
/// The live (test-then-train) quality series of a dataset: every labeled batch scored by the version serving when it
/// arrived, overall and per slice, with the alarms raised; and a picture of one metric over time.
/// </summary>
public static class QualityApi
{
    /// <summary>Metric names accepted by <c>metric=</c>, and the stored metric value each reads.</summary>
    private static readonly Dictionary<string, Func<MetricValues, double?>> Metrics = new(StringComparer.Ordinal)
    {
        ["log_loss"] = m => m.LogLoss, ["accuracy"] = m => m.Accuracy, ["roc_auc"] = m => m.RocAuc, ["ece"] = m => m.Ece,
        ["macro_f1"] = m => m.MacroF1, ["rmse"] = m => m.Rmse, ["mae"] = m => m.Mae,
    };

    public static IEndpointRouteBuilder MapQualityApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/datasets/{dataset}").RequireAuthorization(CtmPolicies.Read);
        api.MapGet("/quality", GetQualityAsync);
        api.MapGet("/quality.svg", GetQualityChartAsync);
        api.MapGet("/quality/versions", GetVersionsAsync);
        return app;
    }

    /// <summary>One scored batch; <see cref="Slices"/> holds the slices the filter kept.</summary>
    /// <remarks>
    /// <c>Source</c> is <c>test-then-train</c> (a labeled batch, <c>BatchId</c>, scored by the version serving when it arrived) or
    /// <c>served</c> (predictions a version served, joined by key to labels; <c>BatchId</c> is the point's own id), with the
    /// <c>Role</c> it served in: <c>serving</c>, <c>canary</c> or <c>shadow</c>.
    /// </remarks>
    public sealed record QualityPointView(
        Guid BatchId, int Version, long Seq, DateTimeOffset AcceptedAt, DateTimeOffset ScoredAt, int Rows, string Metric, double? Value,
        double? Psi, MetricValues Overall, List<SliceMetrics> Slices, string Source, string? Role);

    public sealed record QualityAlertView(long Id, Guid BatchId, int Version, string Kind, string? Slice, string Sentence, JsonElement Numbers, DateTimeOffset RaisedAt);

    public sealed record QualitySeries(string Dataset, List<QualityPointView> Points, List<QualityAlertView> Alerts);

    /// <param name="dataset">The dataset.</param>
    /// <param name="version">Only batches scored by this version.</param>
    /// <param name="feature">Only slices of this feature (<c>@class</c> for per-class); <c>none</c> drops the slices.</param>
    /// <param name="value">With <paramref name="feature"/>: only this value or bucket.</param>
    /// <param name="source">Only points of this source (<c>test-then-train</c> or <c>served</c>).</param>
    /// <param name="role">Only served points of this role (<c>serving</c>, <c>canary</c>, <c>shadow</c>).</param>
    /// <param name="db">The Trainer's database.</param>
    /// <param name="ct">Cancellation.</param>
    public static async Task<Ok<QualitySeries>> GetQualityAsync(
        string dataset, int? version, string? feature, string? value, string? source, string? role, TrainerDbContext db, CancellationToken ct)
    {
        var query = db.Quality.AsNoTracking().Where(q => q.Dataset == dataset);
        if (version is { } v)
        {
            query = query.Where(q => q.Version == v);
        }

        if (source is not null)
        {
            query = query.Where(q => q.Source == source);
        }

        if (role is not null)
        {
            query = query.Where(q => q.Role == role);
        }

        var rows = await query.OrderBy(q => q.Seq).ThenBy(q => q.ScoredAt).ToListAsync(ct);
        var points = rows.Select(q =>
        {
            var slices = q.Slices
                .Where(s => feature is null || (feature != "none" && s.Feature == feature && (value is null || s.Value == value)))
                .ToList();
            return new QualityPointView(q.BatchId, q.Version, q.Seq, q.AcceptedAt, q.ScoredAt, q.Rows, q.Metric, q.Value, q.Psi, q.Overall, slices, q.Source, q.Role);
        }).ToList();
        var alertQuery = db.QualityAlerts.AsNoTracking().Where(a => a.Dataset == dataset);
        if (version is { } av)
        {
            alertQuery = alertQuery.Where(a => a.Version == av);
        }

        var alerts = (await alertQuery.OrderBy(a => a.Id).ToListAsync(ct))
            .Select(a => new QualityAlertView(a.Id, a.BatchId, a.Version, a.Kind, a.Slice, a.Sentence, a.Numbers, a.RaisedAt))
            .ToList();
        return TypedResults.Ok(new QualitySeries(dataset, points, alerts));
    }

    /// <summary>One metric over the batches (overall, or one slice with <paramref name="feature"/> and <paramref name="value"/>), versions and alarms marked.</summary>
    public static async Task<Results<ContentHttpResult, ValidationProblem>> GetQualityChartAsync(
        string dataset, string? metric, string? feature, string? value, TrainerDbContext db, CancellationToken ct)
    {
        // The picture is the test-then-train series (one point per batch); served points are in GET quality and quality/versions.
        var rows = await db.Quality.AsNoTracking().Where(q => q.Dataset == dataset && q.Source == QualitySources.TestThenTrain)
            .OrderBy(q => q.Seq).ThenBy(q => q.ScoredAt).ToListAsync(ct);
        metric ??= rows.LastOrDefault()?.Metric ?? "log_loss";
        if (!Metrics.TryGetValue(metric, out var read))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["metric"] = [$"must be one of {string.Join(", ", Metrics.Keys)}"] });
        }

        var alerted = (await db.QualityAlerts.AsNoTracking().Where(a => a.Dataset == dataset).Select(a => new { a.BatchId, a.Version, a.Kind, a.Slice }).ToListAsync(ct))
            .Where(a => feature is null ? a.Kind != "quality-slice" : a.Slice == $"{feature}={value}")
            .Select(a => (a.BatchId, a.Version)).ToHashSet();
        var points = new List<QualityChartPoint>();
        foreach (var q in rows)
        {
            var source = feature is null ? q.Overall : q.Slices.FirstOrDefault(s => s.Feature == feature && s.Value == value)?.Metrics;
            if (source is not null && read(source) is { } x)
            {
                points.Add(new QualityChartPoint(q.Seq, q.Version, x, alerted.Contains((q.BatchId, q.Version))));
            }
        }

        var title = feature is null ? $"{dataset} - live {metric}" : $"{dataset} - live {metric} on {feature} = {value ?? "(missing)"}";
        return TypedResults.Content(QualitySvg.Render(points, title, metric), "image/svg+xml");
    }

    /// <summary>
    /// One version's live quality from one source (<c>test-then-train</c>, or <c>served</c> with its role): the row-weighted
    /// means of the newest <c>Points</c> points (<c>Rows</c> labeled rows); <c>Value</c> is the judged <c>Metric</c>.
    /// </summary>
    public sealed record LiveQualityView(
        string Source, string? Role, int Points, long Rows, string Metric, double? Value, double? Accuracy, double? RocAuc, double? Ece, double? Rmse, DateTimeOffset LastScoredAt);

    public sealed record VersionQualityView(int Version, List<LiveQualityView> Live);

    /// <summary>Per version, its live quality from each source and role, side by side (for the Registry's version view).</summary>
    /// <param name="dataset">The dataset.</param>
    /// <param name="last">How many of the newest points of each version, source and role to average (default 10).</param>
    /// <param name="db">The Trainer's database.</param>
    /// <param name="ct">Cancellation.</param>
    public static async Task<Results<Ok<List<VersionQualityView>>, ValidationProblem>> GetVersionsAsync(string dataset, int? last, TrainerDbContext db, CancellationToken ct)
    {
        var take = last ?? 10;
        if (take is < 1 or > 1000)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["last"] = ["must be between 1 and 1000"] });
        }

        var rows = await db.Quality.AsNoTracking().Where(q => q.Dataset == dataset)
            .Select(q => new { q.Version, q.Source, q.Role, q.Seq, q.ScoredAt, q.Rows, q.Metric, q.Value, q.Overall }).ToListAsync(ct);
        var views = rows.GroupBy(q => q.Version).OrderBy(g => g.Key).Select(v => new VersionQualityView(v.Key, [.. v
            .GroupBy(q => (q.Source, q.Role)).OrderBy(g => g.Key.Source == QualitySources.TestThenTrain ? 0 : 1).ThenBy(g => RoleOrder(g.Key.Role))
            .Select(g =>
            {
                var newest = g.OrderByDescending(q => q.Seq).ThenByDescending(q => q.ScoredAt).Take(take).ToList();
                var overall = newest.Select(q => (q.Rows, Values: q.Overall)).ToList();
                return new LiveQualityView(g.Key.Source, g.Key.Role, newest.Count, newest.Sum(q => (long)q.Rows), newest[0].Metric,
                    Mean(newest.Select(q => (q.Rows, q.Value))), Mean(overall, m => m.Accuracy), Mean(overall, m => m.RocAuc), Mean(overall, m => m.Ece), Mean(overall, m => m.Rmse),
                    newest.Max(q => q.ScoredAt));
            })])).ToList();
        return TypedResults.Ok(views);
    }

    private static int RoleOrder(string? role) => role switch { null => 0, "serving" => 1, "canary" => 2, _ => 3 };

    private static double? Mean(List<(int Rows, MetricValues Values)> points, Func<MetricValues, double?> read) =>
        Mean(points.Select(p => (p.Rows, read(p.Values))));

    private static double? Mean(IEnumerable<(int Rows, double? Value)> points)
    {
        double sum = 0, weight = 0;
        foreach (var (rows, value) in points)
        {
            if (value is { } v && rows > 0)
            {
                sum += v * rows;
                weight += rows;
            }
        }

        return weight == 0 ? null : sum / weight;
    }
}
