using System.Globalization;
using Ctm.Data.Drift;
using Ctm.Ml;

namespace Ctm.Trainer.Quality;

/// <summary>One batch's quality as the detector sees it: the primary metric (higher is worse) overall and per slice.</summary>
/// <param name="Version">The version that scored it.</param>
/// <param name="Rows">Labeled rows.</param>
/// <param name="Value">The primary metric on every row (log loss, or RMSE for regression); null when undefined.</param>
/// <param name="StdError">The value's sampling standard error on these rows (log loss only), or null.</param>
/// <param name="Slices">Per slice key, its rows, value and standard error.</param>
/// <param name="Histogram">Counts of predictions per bin (empty when not binned), for prediction drift.</param>
/// <param name="Psi">The PSI this batch showed against its version's reference, when it had one.</param>
public sealed record QualityPoint(int Version, int Rows, double? Value, double? StdError, IReadOnlyDictionary<string, (int Rows, double Value, double? StdError)> Slices, IReadOnlyList<int> Histogram, double? Psi);

/// <summary>A quality alarm: overall or one slice outside its norm.</summary>
public sealed record QualityFinding(string Scope, string? SliceKey, double Value, EmpiricalNull Norm, double Deviations, double Limit, int Rows);

/// <summary>A prediction-drift alarm.</summary>
public sealed record PredictionDriftFinding(double Psi, double Limit, int ReferenceBatches, int Rows);

/// <summary>What the detector concluded about one batch.</summary>
/// <param name="Quality">Alarms on quality: one overall, or slices that degraded while the whole did not.</param>
/// <param name="Drift">A prediction-drift alarm, or null.</param>
/// <param name="Psi">The batch's PSI against its version's reference (null without one), kept for later norms.</param>
public sealed record QualityVerdict(IReadOnlyList<QualityFinding> Quality, PredictionDriftFinding? Drift, double? Psi);

/// <summary>
/// Judges a batch's test-then-train quality against the dataset's own recent history (any version that served),
/// the way the Validator judges drift: median and MAD of the history, widened for a short one, no alarm before
/// <see cref="QualitySettings.MinHistory"/> batches. Pure: the caller supplies the history.
/// </summary>
public static class QualityDetector
{
    /// <summary>Slice keys join the feature and the value with this character (never in a feature name or a CSV value we keep).</summary>
    public const char KeySeparator = '\u001f';

    public static string SliceKey(string feature, string? value) => feature + KeySeparator + (value ?? "");

    public static (string Feature, string? Value) SplitKey(string key)
    {
        var i = key.IndexOf(KeySeparator, StringComparison.Ordinal);
        return i < 0 ? (key, null) : (key[..i], key[(i + 1)..] is { Length: > 0 } v ? v : null);
    }

    /// <summary>The metric judged: log loss for classification, RMSE for regression (higher is worse for both).</summary>
    public static string MetricName(ModelTask task) => task == ModelTask.Regression ? "rmse" : "log_loss";

    /// <summary>A batch's point from its metrics.</summary>
    public static QualityPoint Point(int version, ModelMetrics metrics, IReadOnlyList<int> histogram)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        var regression = metrics.Task == ModelTask.Regression;
        return Point(version, metrics.Overall, regression, metrics.Slices, histogram);
    }

    /// <summary>A point from stored parts (a slice that appears twice keeps its first entry).</summary>
    public static QualityPoint Point(int version, MetricValues overall, bool regression, IReadOnlyList<SliceMetrics> slices, IReadOnlyList<int> histogram)
    {
        ArgumentNullException.ThrowIfNull(overall);
        ArgumentNullException.ThrowIfNull(slices);
        var bySlice = new Dictionary<string, (int Rows, double Value, double? StdError)>(StringComparer.Ordinal);
        foreach (var s in slices)
        {
            if ((regression ? s.Metrics.Rmse : s.Metrics.LogLoss) is { } v)
            {
                bySlice.TryAdd(SliceKey(s.Feature, s.Value), (s.Metrics.Count, v, StdError(s.Metrics)));
            }
        }

        return new QualityPoint(version, overall.Count, regression ? overall.Rmse : overall.LogLoss, StdError(overall), bySlice, histogram, null);
    }

    private static double? StdError(MetricValues m) => m.LogLossSd is { } sd && m.Count > 0 ? sd / Math.Sqrt(m.Count) : null;

    /// <summary>Counts of p(positive) (binary) or p(top class) (multiclass) in equal-width bins; regression is not binned.</summary>
    public static (string Quantity, int[] Counts) Histogram(ModelPredictions predictions, int bins)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        if (predictions.Task == ModelTask.Regression)
        {
            return ("predicted value", []);
        }

        var counts = new int[bins];
        for (var r = 0; r < predictions.Rows; r++)
        {
            var row = predictions.Values.AsSpan(r * predictions.Columns, predictions.Columns);
            float x = row[0];
            if (predictions.Task == ModelTask.BinaryClassification)
            {
                x = row[1];
            }
            else
            {
                foreach (var c in row)
                {
                    x = Math.Max(x, c);
                }
            }

            counts[Math.Clamp((int)(x * bins), 0, bins - 1)]++;
        }

        return (predictions.Task == ModelTask.BinaryClassification ? "p(positive)" : "p(top class)", counts);
    }

    /// <param name="history">Earlier batches of the dataset, oldest first (the newest <see cref="QualitySettings.HistoryBatches"/>).</param>
    /// <param name="current">The batch just scored (its <see cref="QualityPoint.Psi"/> is ignored: it is computed here).</param>
    /// <param name="settings">Limits.</param>
    public static QualityVerdict Judge(IReadOnlyList<QualityPoint> history, QualityPoint current, QualitySettings settings)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(settings);
        var findings = new List<QualityFinding>();
        var overall = current.Rows >= settings.MinRows && current.Value is { } v
            ? Check("overall", null, v, current.StdError, current.Rows, [.. history.Where(p => p.Rows >= settings.MinRows && p.Value is not null).Select(p => p.Value!.Value)], settings.Deviations, settings)
            : null;
        if (overall is not null)
        {
            findings.Add(overall);
        }
        else
        {
            var slices = new List<QualityFinding>();
            foreach (var (key, (rows, value, error)) in current.Slices)
            {
                if (rows < settings.MinRows)
                {
                    continue;
                }

                var past = history.Select(p => p.Slices.TryGetValue(key, out var s) && s.Rows >= settings.MinRows ? s.Value : (double?)null)
                    .Where(x => x is not null).Select(x => x!.Value).ToList();
                if (Check("slice", key, value, error, rows, past, settings.SliceDeviations, settings) is { } f)
                {
                    slices.Add(f);
                }
            }

            findings.AddRange(slices.OrderByDescending(f => f.Deviations).ThenBy(f => f.SliceKey, StringComparer.Ordinal).Take(settings.MaxSliceAlerts));
        }

        var (psi, drift) = PredictionDrift(history, current, settings);
        return new QualityVerdict(findings, drift, psi);
    }

    /// <summary>
    /// The value against the history's norm. The spread is the widened robust spread of the history combined with the
    /// value's own sampling error: a short history's MAD can come out far too tight by chance, and a slice of few rows
    /// is noisier than the history's typical batch; counting the noise twice only makes the alarm more cautious.
    /// </summary>
    private static QualityFinding? Check(string scope, string? key, double value, double? error, int rows, IReadOnlyList<double> past, double deviations, QualitySettings settings)
    {
        if (past.Count < settings.MinHistory)
        {
            return null;
        }

        var fitted = EmpiricalNull.Fit(past, settings.SpreadFloor);
        var noise = error ?? 0;
        var spread = Math.Sqrt((fitted.Widened * fitted.Widened) + (noise * noise));
        // Stored as an EmpiricalNull whose widened spread is the combined one, so the alarm's numbers add up.
        var norm = new EmpiricalNull(fitted.Median, spread / (1 + (3.0 / Math.Max(1, fitted.Count))), fitted.Count);
        var d = norm.Deviations(value);
        return d > deviations ? new QualityFinding(scope, key, value, norm, d, norm.Limit(deviations), rows) : null;
    }

    /// <summary>
    /// PSI of the batch's prediction histogram against the sum of its version's first
    /// <see cref="QualitySettings.ReferenceBatches"/> batches; an alarm when it exceeds both the dataset's PSI norm
    /// (history across versions) and a sampling-noise floor, so a small batch's ragged histogram does not alarm.
    /// </summary>
    private static (double? Psi, PredictionDriftFinding? Drift) PredictionDrift(IReadOnlyList<QualityPoint> history, QualityPoint current, QualitySettings settings)
    {
        var own = history.Where(p => p.Version == current.Version && p.Histogram.Count == current.Histogram.Count && p.Histogram.Count > 0).ToList();
        if (current.Histogram.Count == 0 || own.Count < settings.ReferenceBatches)
        {
            return (null, null);
        }

        var reference = new long[current.Histogram.Count];
        foreach (var p in own.Take(settings.ReferenceBatches))
        {
            for (var b = 0; b < reference.Length; b++)
            {
                reference[b] += p.Histogram[b];
            }
        }

        var psi = Psi(reference, current.Histogram);
        var past = history.Where(p => p.Psi is not null).Select(p => p.Psi!.Value).ToList();
        if (past.Count < settings.MinHistory)
        {
            return (psi, null);
        }

        // Two histograms of n and m rows drawn from one distribution show a PSI of about (bins − 1)(1/n + 1/m).
        long n = reference.Sum(), m = current.Histogram.Sum();
        var floor = 3.0 * (reference.Length - 1) * ((1.0 / Math.Max(1, n)) + (1.0 / Math.Max(1, m)));
        var limit = Math.Max(EmpiricalNull.Fit(past, 0.01).Limit(settings.PsiDeviations), floor);
        return (psi, psi > limit ? new PredictionDriftFinding(psi, limit, settings.ReferenceBatches, (int)m) : null);
    }

    /// <summary>Population stability index Σ (q − p) ln(q / p) over bins, with half a count added to each bin.</summary>
    public static double Psi(IReadOnlyList<long> reference, IReadOnlyList<int> current)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(current);
        double n = reference.Sum() + (0.5 * reference.Count), m = current.Sum() + (0.5 * current.Count);
        double psi = 0;
        for (var b = 0; b < reference.Count; b++)
        {
            var p = (reference[b] + 0.5) / n;
            var q = (current[b] + 0.5) / m;
            psi += (q - p) * Math.Log(q / p);
        }

        return psi;
    }

    /// <summary>The sentence of a quality alarm, with its numbers.</summary>
    public static string Sentence(string dataset, int version, string metric, QualityFinding f)
    {
        ArgumentNullException.ThrowIfNull(f);
        var (feature, value) = f.SliceKey is null ? ("", null) : SplitKey(f.SliceKey);
        var where = f.SliceKey is null ? "overall"
            : feature == Evaluator.ClassSlice ? $"on rows of class {value}"
            : feature == NamedSlices.Feature ? $"on the named slice '{value}'"
            : $"on slice {feature} = {value ?? "(missing)"}";
        var also = f.Scope == "slice" ? " while the whole stayed normal" : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"{dataset} v{version} degraded {where}{also}: {metric} {f.Value:0.####} on {f.Rows} labeled rows against a median of {f.Norm.Median:0.####} over the last {f.Norm.Count} batches ({f.Deviations:0.#} robust deviations of {f.Norm.Widened:0.####}; the limit is {f.Limit:0.####}).");
    }

    /// <summary>The sentence of a prediction-drift alarm, with its numbers.</summary>
    public static string Sentence(string dataset, int version, string quantity, PredictionDriftFinding f) => f is null ? throw new ArgumentNullException(nameof(f)) :
        string.Create(CultureInfo.InvariantCulture,
            $"{dataset} v{version}'s predictions moved: PSI of {quantity} {f.Psi:0.####} on {f.Rows} rows against its first {f.ReferenceBatches} batches, above the limit {f.Limit:0.####}.");
}
