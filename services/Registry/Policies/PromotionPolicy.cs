using Ctm.Contracts;

namespace Ctm.Registry.Policies;

/// <summary>
/// A dataset's promotion policy: <c>auto</c> promotes a version that is not worse than the serving one beyond the
/// noise of the held-out rows plus <see cref="Tolerance"/> (absolute, in the metric's unit); <c>manual</c> waits for an
/// operator. <see cref="Metric"/> null means log loss for classification, RMSE for regression.
/// </summary>
public sealed record PolicySettings(string Mode, double Tolerance, string? Metric)
{
    public const string Auto = "auto";
    public const string Manual = "manual";
    public static readonly PolicySettings Default = new(Auto, 0.0, null);
}

/// <summary>What the policy is shown: the candidate's numbers and the serving version's.</summary>
public sealed record Candidate(
    int Version,
    TaskKind? Task,
    IReadOnlyDictionary<string, double>? Metrics,
    IReadOnlyDictionary<string, double>? BaselineMetrics,
    int? BaselineVersion,
    string? TaintReason,
    string? StaleReason)
{
    /// <summary>Classes the candidate predicts and the serving version cannot (from the run's <c>newClasses</c> parameter).</summary>
    public IReadOnlyList<string> NewClasses { get; init; } = [];
}

public sealed record ServingVersion(int Version, IReadOnlyDictionary<string, double>? Metrics);

/// <summary>A decision with the numbers it was made on.</summary>
public sealed record Verdict(VerdictDecision Decision, string Basis, string? Metric, double? CandidateValue, double? BaselineValue, int? BaselineVersion, string Reason)
{
    public bool Promotes => Decision == VerdictDecision.Promoted;
}

/// <summary>Decides whether a newly registered version replaces the serving one. Pure: the caller records the verdict.</summary>
public static class PromotionPolicy
{
    /// <summary>How many standard errors of held-out noise a challenger may lose by before it is refused.</summary>
    public const double NoiseZ = 2.0;

    /// <summary>The metric a dataset is judged on: the configured one, else log loss (a proper score) or RMSE.</summary>
    public static string PrimaryMetric(TaskKind? task, string? configured) =>
        !string.IsNullOrWhiteSpace(configured) ? configured : task == TaskKind.Regression ? "rmse" : "log_loss";

    public static bool LowerIsBetter(string metric) =>
        metric.Contains("loss", StringComparison.OrdinalIgnoreCase)
        || metric.Contains("error", StringComparison.OrdinalIgnoreCase)
        || metric.Equals("rmse", StringComparison.OrdinalIgnoreCase)
        || metric.Equals("mse", StringComparison.OrdinalIgnoreCase)
        || metric.Equals("mae", StringComparison.OrdinalIgnoreCase);

    public static Verdict Decide(Candidate candidate, ServingVersion? serving, PolicySettings policy)
    {
        var metric = PrimaryMetric(candidate.Task, policy.Metric);
        if (policy.Metric is null && metric == "log_loss" && Lookup(candidate.Metrics, metric) is null && Lookup(candidate.Metrics, "accuracy") is not null)
        {
            // A producer that reports no log loss (an external model, an older Trainer) is judged on accuracy as before.
            metric = "accuracy";
        }

        var value = Lookup(candidate.Metrics, metric);
        if (candidate.TaintReason is not null)
        {
            return new(VerdictDecision.Tainted, "none", metric, value, null, serving?.Version, candidate.TaintReason);
        }

        if (candidate.StaleReason is not null)
        {
            return new(VerdictDecision.Stale, "none", metric, value, null, serving?.Version, candidate.StaleReason);
        }

        if (serving is null)
        {
            return new(VerdictDecision.Promoted, "first-version", metric, value, null, null, "nothing serves this dataset yet");
        }

        if (candidate.NewClasses.Count > 0 && policy.Mode != PolicySettings.Manual)
        {
            // The champion cannot predict these classes at all: however it scores on rows without them, it must go.
            return new(VerdictDecision.Promoted, "new-class", metric, value, null, serving.Version,
                $"v{candidate.Version} predicts {string.Join(", ", candidate.NewClasses.Select(c => $"'{c}'"))}, which serving v{serving.Version} cannot");
        }

        // Best: the serving version scored on the candidate's own holdout rows. Otherwise its recorded numbers (other rows).
        var sameRows = candidate.BaselineVersion == serving.Version && Lookup(candidate.BaselineMetrics, metric) is not null;
        var (basis, baseline) = sameRows
            ? ("same-holdout", Lookup(candidate.BaselineMetrics, metric))
            : ("recorded-metrics", Lookup(serving.Metrics, metric));
        if (value is null || baseline is null)
        {
            return new(VerdictDecision.Pending, "none", metric, value, baseline, serving.Version,
                $"no comparable '{metric}' for v{candidate.Version} and v{serving.Version}; waiting for an operator's approval");
        }

        var rows = Lookup(candidate.Metrics, "rows") ?? 0;
        var lowerBetter = LowerIsBetter(metric);
        var gain = lowerBetter ? baseline.Value - value.Value : value.Value - baseline.Value;
        var noise = Noise(metric, value.Value, baseline.Value, rows, sameRows ? candidate.BaselineMetrics : null);
        var allowed = policy.Tolerance + (NoiseZ * noise);
        var comparison = string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{metric} {value:0.####} vs {baseline:0.####} for serving v{serving.Version} ({basis}, {(lowerBetter ? "lower" : "higher")} is better, allowed loss {allowed:0.####} = tolerance {policy.Tolerance:0.####} + {NoiseZ} x noise {noise:0.####} of {rows} rows)");
        if (policy.Mode == PolicySettings.Manual)
        {
            return new(VerdictDecision.Pending, basis, metric, value, baseline, serving.Version, $"manual policy: waiting for an operator's approval; {comparison}");
        }

        if (gain < -allowed - 1e-12)
        {
            return new(VerdictDecision.Rejected, basis, metric, value, baseline, serving.Version, $"worse beyond noise and tolerance: {comparison}");
        }

        // A proper score within noise can still hide a ranking that got clearly worse: check the secondary metric.
        if (sameRows && Secondary(candidate.Task, metric) is { } secondary
            && Lookup(candidate.Metrics, secondary) is { } c2 && Lookup(candidate.BaselineMetrics, secondary) is { } b2)
        {
            var allowed2 = NoiseZ * Noise(secondary, c2, b2, rows, null);
            if (c2 - b2 < -allowed2 - 1e-12)
            {
                return new(VerdictDecision.Rejected, basis, metric, value, baseline, serving.Version, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"{secondary} {c2:0.####} vs {b2:0.####} is worse beyond noise ({allowed2:0.####}), though {comparison}"));
            }
        }

        return new(VerdictDecision.Promoted, basis, metric, value, baseline, serving.Version, $"not worse beyond noise and tolerance: {comparison}");
    }

    /// <summary>For a classification proper score: ROC AUC (binary) or accuracy (multiclass), where higher is better.</summary>
    private static string? Secondary(TaskKind? task, string metric) =>
        metric != "log_loss" ? null : task == TaskKind.Binary ? "roc_auc" : task == TaskKind.Multiclass ? "accuracy" : null;

    /// <summary>
    /// One standard error of the difference between two models' metric on <paramref name="rows"/> rows: the paired
    /// per-row figure the Trainer measured where there is one (log loss), else a binomial-style approximation; 0 when
    /// the metric has no known noise model (e.g. RMSE: the tolerance alone decides).
    /// </summary>
    public static double Noise(string metric, double candidate, double baseline, double rows, IReadOnlyDictionary<string, double>? baselineMetrics)
    {
        if (rows < 2)
        {
            return 0;
        }

        if (metric == "log_loss" && Lookup(baselineMetrics, "log_loss_delta_se") is { } paired)
        {
            return paired;
        }

        var p = Math.Clamp((candidate + baseline) / 2, 0, 1);
        return metric switch
        {
            // Two scores on the same rows, treated as independent (conservative: paired differences are smaller).
            "accuracy" or "macro_f1" => Math.Sqrt(2 * p * (1 - p) / rows),
            // AUC with about a quarter of the rows in the smaller class (Hanley-McNeil, coarsely).
            "roc_auc" => Math.Sqrt(2 * p * (1 - p) / Math.Max(1, rows / 4)),
            // Per-row log loss spreads about as widely as its mean.
            "log_loss" => Math.Sqrt(2) * ((candidate + baseline) / 2) / Math.Sqrt(rows),
            _ => 0,
        };
    }

    private static double? Lookup(IReadOnlyDictionary<string, double>? metrics, string metric) =>
        metrics is not null && metrics.TryGetValue(metric, out var v) && double.IsFinite(v) ? v : null;
}
