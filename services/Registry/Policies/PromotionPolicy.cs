namespace Ctm.Registry.Policies;

/// <summary>A dataset's promotion policy: <c>auto</c> promotes a version not worse than the serving one by more than <see cref="Tolerance"/>; <c>manual</c> waits for an operator.</summary>
public sealed record PolicySettings(string Mode, double Tolerance, string? Metric)
{
    public const string Auto = "auto";
    public const string Manual = "manual";
    public static readonly PolicySettings Default = new(Auto, 0.05, null);
}

/// <summary>What the policy is shown: the candidate's numbers and the serving version's.</summary>
public sealed record Candidate(
    int Version,
    string Task,
    IReadOnlyDictionary<string, double>? Metrics,
    IReadOnlyDictionary<string, double>? BaselineMetrics,
    int? BaselineVersion,
    string? TaintReason,
    string? StaleReason);

public sealed record ServingVersion(int Version, IReadOnlyDictionary<string, double>? Metrics);

/// <summary>A decision with the numbers it was made on.</summary>
public sealed record Verdict(string Decision, string Basis, string? Metric, double? CandidateValue, double? BaselineValue, int? BaselineVersion, string Reason)
{
    public const string Promoted = "promoted";
    public const string Pending = "pending";
    public const string Rejected = "rejected";
    public const string Tainted = "tainted";
    public const string Stale = "stale";

    public bool Promotes => Decision == Promoted;
}

/// <summary>Decides whether a newly registered version replaces the serving one. Pure: the caller records the verdict.</summary>
public static class PromotionPolicy
{
    public static string PrimaryMetric(string task, string? configured) =>
        !string.IsNullOrWhiteSpace(configured) ? configured : task == "regression" ? "rmse" : "accuracy";

    public static bool LowerIsBetter(string metric) =>
        metric.Contains("loss", StringComparison.OrdinalIgnoreCase)
        || metric.Contains("error", StringComparison.OrdinalIgnoreCase)
        || metric.Equals("rmse", StringComparison.OrdinalIgnoreCase)
        || metric.Equals("mse", StringComparison.OrdinalIgnoreCase)
        || metric.Equals("mae", StringComparison.OrdinalIgnoreCase);

    public static Verdict Decide(Candidate candidate, ServingVersion? serving, PolicySettings policy)
    {
        var metric = PrimaryMetric(candidate.Task, policy.Metric);
        var value = Lookup(candidate.Metrics, metric);
        if (candidate.TaintReason is not null)
        {
            return new(Verdict.Tainted, "none", metric, value, null, serving?.Version, candidate.TaintReason);
        }

        if (candidate.StaleReason is not null)
        {
            return new(Verdict.Stale, "none", metric, value, null, serving?.Version, candidate.StaleReason);
        }

        if (serving is null)
        {
            return new(Verdict.Promoted, "first-version", metric, value, null, null, "nothing serves this dataset yet");
        }

        // Best: the serving version scored on the candidate's own holdout rows. Otherwise its recorded numbers (other rows).
        var (basis, baseline) = candidate.BaselineVersion == serving.Version && Lookup(candidate.BaselineMetrics, metric) is { } same
            ? ("same-holdout", (double?)same)
            : ("recorded-metrics", Lookup(serving.Metrics, metric));
        if (value is null || baseline is null)
        {
            return new(Verdict.Pending, "none", metric, value, baseline, serving.Version,
                $"no comparable '{metric}' for v{candidate.Version} and v{serving.Version}; waiting for an operator's approval");
        }

        var lowerBetter = LowerIsBetter(metric);
        var gain = lowerBetter ? baseline.Value - value.Value : value.Value - baseline.Value;
        var comparison = string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{metric} {value:0.####} vs {baseline:0.####} for serving v{serving.Version} ({basis}, {(lowerBetter ? "lower" : "higher")} is better, tolerance {policy.Tolerance:0.####})");
        if (policy.Mode == PolicySettings.Manual)
        {
            return new(Verdict.Pending, basis, metric, value, baseline, serving.Version, $"manual policy: waiting for an operator's approval; {comparison}");
        }

        return gain >= -policy.Tolerance - 1e-12
            ? new(Verdict.Promoted, basis, metric, value, baseline, serving.Version, $"not worse than tolerance: {comparison}")
            : new(Verdict.Rejected, basis, metric, value, baseline, serving.Version, $"worse than tolerance: {comparison}");
    }

    private static double? Lookup(IReadOnlyDictionary<string, double>? metrics, string metric) =>
        metrics is not null && metrics.TryGetValue(metric, out var v) && double.IsFinite(v) ? v : null;
}
