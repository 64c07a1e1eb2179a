using System.Globalization;
using Ctm.Data.Drift;
using Ctm.Ml;
using Ctm.Trainer.Extensions;

namespace Ctm.Trainer.Quality;

/// <summary>One measure of quality the detector judges, with the direction in which it is worse.</summary>
/// <param name="Name">The measure (<c>roc_auc</c>, <c>balanced_accuracy</c>, <c>log_loss_excess</c>, <c>log_loss_gap</c>, <c>rmse</c>).</param>
/// <param name="Value">Its value on the rows.</param>
/// <param name="StdError">Its sampling standard error on these rows, when known.</param>
/// <param name="LowerIsWorse">True for measures of skill (AUC, balanced accuracy), false for losses.</param>
public sealed record QualityMeasure(string Name, double Value, double? StdError, bool LowerIsWorse);

/// <summary>One batch's quality as the detector sees it: the measures judged overall and per slice.</summary>
/// <param name="Version">The version that scored it.</param>
/// <param name="Rows">Labeled rows.</param>
/// <param name="Value">The stored headline metric on every row (log loss, or RMSE for regression); null when undefined.</param>
/// <param name="Measures">The measures judged on every row.</param>
/// <param name="Slices">Per slice key, its rows and the measures judged on it.</param>
/// <param name="Histogram">Counts of predictions per bin (empty when not binned), for prediction drift.</param>
/// <param name="Psi">The PSI this batch showed against its version's reference, when it had one.</param>
public sealed record QualityPoint(
    int Version, int Rows, double? Value, IReadOnlyList<QualityMeasure> Measures, IReadOnlyDictionary<string, (int Rows, IReadOnlyList<QualityMeasure> Measures)> Slices,
    IReadOnlyList<int> Histogram, double? Psi);

/// <summary>A quality alarm: overall or one slice outside its norm on one measure.</summary>
/// <param name="Scope"><c>overall</c> or <c>slice</c>.</param>
/// <param name="SliceKey">The slice (see <see cref="QualityDetector.SliceKey"/>), or null overall.</param>
/// <param name="Metric">The measure that left its norm.</param>
/// <param name="LowerIsWorse">Whether the measure is worse when lower (then <see cref="Limit"/> lies below the median).</param>
/// <param name="Value">The measure on the batch.</param>
/// <param name="Norm">The history's norm (median, spread combined with the value's sampling error).</param>
/// <param name="Deviations">How many spreads the value lies on the worse side of the median.</param>
/// <param name="Limit">The value beyond which the measure alarms.</param>
/// <param name="Rows">Labeled rows behind the value.</param>
public sealed record QualityFinding(string Scope, string? SliceKey, string Metric, bool LowerIsWorse, double Value, EmpiricalNull Norm, double Deviations, double Limit, int Rows);

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
/// <see cref="QualityOptions.MinHistory"/> batches. Pure: the caller supplies the history.
/// </summary>
/// <remarks>
/// The measures are chosen so that what a stream does naturally (its label mix swinging with seasons and regimes)
/// leaves them in place while a change of P(y|x) moves them. Raw log loss does not qualify: it rises and falls with
/// the entropy of the batch's own label mix, and on a stream whose positive rate swings between 12 % and 36 % that
/// swing is as large as what a turned-around relation adds. So the whole is judged on
/// <list type="bullet">
/// <item>ranking: ROC AUC (binary) or balanced accuracy, the mean of per-class recall (multiclass), which do not
/// depend on how many rows each class has;</item>
/// <item>log loss in excess of the entropy of the batch's own label mix (<c>log_loss_excess</c>): what the model's
/// probabilities cost beyond knowing only the batch's class shares, which keeps calibration failures visible;</item>
/// </list>
/// and a slice on its log loss minus the whole's (<c>log_loss_gap</c>), so a swing that moves every slice together is
/// not counted against each. Per-class slices (<see cref="Evaluator.ClassSlice"/>) are measured and stored but not
/// judged: their rows are selected by the label, so their loss follows the class's share against the prior the
/// model learned, which is natural variation; a class whose relation changes lowers the balanced accuracy.
/// Regression keeps RMSE overall and per slice.
/// </remarks>
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

    /// <summary>The headline metric stored with each point: log loss for classification, RMSE for regression (higher is worse for both).</summary>
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
        var classes = slices.Where(s => s.Feature == Evaluator.ClassSlice).Select(s => s.Metrics).ToList();
        var bySlice = new Dictionary<string, (int Rows, IReadOnlyList<QualityMeasure> Measures)>(StringComparer.Ordinal);
        foreach (var s in slices.Where(s => s.Feature != Evaluator.ClassSlice))
        {
            var measures = SliceMeasures(s.Metrics, overall, regression);
            if (measures.Count > 0)
            {
                bySlice.TryAdd(SliceKey(s.Feature, s.Value), (s.Metrics.Count, measures));
            }
        }

        return new QualityPoint(version, overall.Count, regression ? overall.Rmse : overall.LogLoss, OverallMeasures(overall, regression, classes), bySlice, histogram, null);
    }

    /// <summary>The measures of the whole (see the class's remarks); per-class counts and recalls come from the class slices.</summary>
    private static List<QualityMeasure> OverallMeasures(MetricValues m, bool regression, List<MetricValues> classes)
    {
        var measures = new List<QualityMeasure>();
        if (regression)
        {
            if (m.Rmse is { } rmse)
            {
                measures.Add(new QualityMeasure("rmse", rmse, null, LowerIsWorse: false));
            }

            return measures;
        }

        var counts = classes.Select(c => c.Count).Where(c => c > 0).ToList();
        if (m.RocAuc is { } auc && classes.Count == 2 && counts.Count == 2)
        {
            measures.Add(new QualityMeasure("roc_auc", auc, AucStdError(auc, classes[1].Count, classes[0].Count), LowerIsWorse: true));
        }
        else if (m.RocAuc is null && counts.Count >= 2 && classes.All(c => c.Count == 0 || c.Accuracy is not null))
        {
            // Balanced accuracy: each present class's recall (the accuracy on its rows) counts once, whatever its share.
            var present = classes.Where(c => c.Count > 0).ToList();
            var recall = present.Average(c => c.Accuracy!.Value);
            var variance = present.Sum(c => c.Accuracy!.Value * (1 - c.Accuracy.Value) / c.Count);
            measures.Add(new QualityMeasure("balanced_accuracy", recall, Math.Sqrt(variance) / present.Count, LowerIsWorse: true));
        }

        if (m.LogLoss is { } logLoss && counts.Count > 0)
        {
            var total = (double)counts.Sum();
            var entropy = -counts.Sum(c => c / total * Math.Log(c / total));
            measures.Add(new QualityMeasure("log_loss_excess", logLoss - entropy, StdError(m), LowerIsWorse: false));
        }

        return measures;
    }

    private static List<QualityMeasure> SliceMeasures(MetricValues s, MetricValues overall, bool regression)
    {
        if (regression)
        {
            return s.Rmse is { } rmse ? [new QualityMeasure("rmse", rmse, null, LowerIsWorse: false)] : [];
        }

        return s.LogLoss is { } v && overall.LogLoss is { } whole ? [new QualityMeasure("log_loss_gap", v - whole, StdError(s), LowerIsWorse: false)] : [];
    }

    /// <summary>The standard error of an AUC on <paramref name="positives"/> and <paramref name="negatives"/> rows (Hanley and McNeil, 1982).</summary>
    public static double AucStdError(double auc, int positives, int negatives)
    {
        double q1 = auc / (2 - auc), q2 = 2 * auc * auc / (1 + auc);
        var variance = ((auc * (1 - auc)) + ((positives - 1) * (q1 - (auc * auc))) + ((negatives - 1) * (q2 - (auc * auc)))) / Math.Max(1.0, (double)positives * negatives);
        return Math.Sqrt(Math.Max(0, variance));
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

    /// <param name="history">Earlier batches of the dataset, oldest first (the newest <see cref="QualityOptions.HistoryBatches"/>).</param>
    /// <param name="current">The batch just scored (its <see cref="QualityPoint.Psi"/> is ignored: it is computed here).</param>
    /// <param name="settings">Limits.</param>
    public static QualityVerdict Judge(IReadOnlyList<QualityPoint> history, QualityPoint current, QualityOptions settings)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(settings);
        var findings = new List<QualityFinding>();
        var usable = history.Where(p => p.Rows >= settings.MinRows).ToList();
        var overall = current.Rows >= settings.MinRows
            ? Worst("overall", null, current.Rows, current.Measures, name => usable.SelectMany(p => p.Measures.Where(m => m.Name == name)), settings.Deviations, settings)
            : null;
        if (overall is not null)
        {
            findings.Add(overall);
        }
        else
        {
            var slices = new List<QualityFinding>();
            foreach (var (key, (rows, measures)) in current.Slices)
            {
                if (rows < settings.MinRows)
                {
                    continue;
                }

                IEnumerable<QualityMeasure> Past(string name) => history
                    .Select(p => p.Slices.TryGetValue(key, out var s) && s.Rows >= settings.MinRows ? s.Measures.FirstOrDefault(m => m.Name == name) : null)
                    .OfType<QualityMeasure>();
                if (Worst("slice", key, rows, measures, Past, settings.SliceDeviations, settings) is { } f)
                {
                    slices.Add(f);
                }
            }

            findings.AddRange(slices.OrderByDescending(f => f.Deviations).ThenBy(f => f.SliceKey, StringComparer.Ordinal).Take(settings.MaxSliceAlerts));
        }

        var (psi, drift) = PredictionDrift(history, current, settings);
        return new QualityVerdict(findings, drift, psi);
    }

    /// <summary>The measure furthest beyond its limit, or null when every one is within.</summary>
    private static QualityFinding? Worst(
        string scope, string? key, int rows, IReadOnlyList<QualityMeasure> measures, Func<string, IEnumerable<QualityMeasure>> past, double deviations, QualityOptions settings) =>
        measures.Select(m => Check(scope, key, m, rows, [.. past(m.Name).Select(p => p.Value)], deviations, settings))
            .OfType<QualityFinding>().OrderByDescending(f => f.Deviations).FirstOrDefault();

    /// <summary>
    /// The value against the history's norm. The spread is the widened robust spread of the history combined with the
    /// value's own sampling error: a short history's MAD can come out far too tight by chance, and a slice of few rows
    /// is noisier than the history's typical batch; counting the noise twice only makes the alarm more cautious.
    /// </summary>
    private static QualityFinding? Check(string scope, string? key, QualityMeasure measure, int rows, IReadOnlyList<double> past, double deviations, QualityOptions settings)
    {
        if (past.Count < settings.MinHistory)
        {
            return null;
        }

        var fitted = EmpiricalNull.Fit(past, settings.SpreadFloor);
        var noise = measure.StdError ?? 0;
        var spread = Math.Sqrt((fitted.Widened * fitted.Widened) + (noise * noise));
        // Stored as an EmpiricalNull whose widened spread is the combined one, so the alarm's numbers add up.
        var norm = new EmpiricalNull(fitted.Median, spread / (1 + (3.0 / Math.Max(1, fitted.Count))), fitted.Count);
        var sign = measure.LowerIsWorse ? -1 : 1;
        var d = sign * norm.Deviations(measure.Value);
        return d > deviations
            ? new QualityFinding(scope, key, measure.Name, measure.LowerIsWorse, measure.Value, norm, d, norm.Median + (sign * deviations * norm.Widened), rows)
            : null;
    }

    /// <summary>
    /// PSI of the batch's prediction histogram against the sum of its version's first
    /// <see cref="QualityOptions.ReferenceBatches"/> batches; an alarm when it exceeds both the dataset's PSI norm
    /// (history across versions) and a sampling-noise floor, so a small batch's ragged histogram does not alarm.
    /// </summary>
    private static (double? Psi, PredictionDriftFinding? Drift) PredictionDrift(IReadOnlyList<QualityPoint> history, QualityPoint current, QualityOptions settings)
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
    public static string Sentence(string dataset, int version, QualityFinding f)
    {
        ArgumentNullException.ThrowIfNull(f);
        var (feature, value) = f.SliceKey is null ? ("", null) : SplitKey(f.SliceKey);
        var where = f.SliceKey is null ? "overall"
            : feature == Evaluator.ClassSlice ? $"on rows of class {value}"
            : feature == NamedSlices.Feature ? $"on the named slice '{value}'"
            : $"on slice {feature} = {value ?? "(missing)"}";
        var also = f.Scope == "slice" ? " while the whole stayed normal" : "";
        var side = f.LowerIsWorse ? "below" : "above";
        return string.Create(CultureInfo.InvariantCulture,
            $"{dataset} v{version} degraded {where}{also}: {Describe(f.Metric)} {f.Value:0.####} on {f.Rows} labeled rows against a median of {f.Norm.Median:0.####} over the last {f.Norm.Count} batches ({f.Deviations:0.#} robust deviations of {f.Norm.Widened:0.####} {side} it; the limit is {f.Limit:0.####}).");
    }

    private static string Describe(string metric) => metric switch
    {
        "roc_auc" => "ROC AUC",
        "balanced_accuracy" => "balanced accuracy (mean recall over classes)",
        "log_loss_excess" => "log loss beyond the entropy of the batch's label mix",
        "log_loss_gap" => "log loss above the whole's",
        "rmse" => "RMSE",
        _ => metric,
    };

    /// <summary>The sentence of a prediction-drift alarm, with its numbers.</summary>
    public static string Sentence(string dataset, int version, string quantity, PredictionDriftFinding f) => f is null ? throw new ArgumentNullException(nameof(f)) :
        string.Create(CultureInfo.InvariantCulture,
            $"{dataset} v{version}'s predictions moved: PSI of {quantity} {f.Psi:0.####} on {f.Rows} rows against its first {f.ReferenceBatches} batches, above the limit {f.Limit:0.####}.");
}
