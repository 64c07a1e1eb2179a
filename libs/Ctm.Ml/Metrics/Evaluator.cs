namespace Ctm.Ml;

/// <summary>Metrics on a set of rows. A metric that does not apply to the task (or is undefined, such as ROC AUC with one class present) is null.</summary>
/// <param name="Count">Rows measured.</param>
/// <param name="Accuracy">Classification: share of rows whose predicted class is the label.</param>
/// <param name="LogLoss">Classification: mean −ln p(label), p clipped to [1e-15, 1].</param>
/// <param name="RocAuc">Binary: area under the ROC curve of the positive class (index 1), ties counted half.</param>
/// <param name="MacroF1">Classification: unweighted mean F1 over classes present in the labels or the predictions.</param>
/// <param name="Rmse">Regression: root mean squared error.</param>
/// <param name="Mae">Regression: mean absolute error.</param>
public sealed record MetricValues(int Count, double? Accuracy, double? LogLoss, double? RocAuc, double? MacroF1, double? Rmse, double? Mae)
{
    /// <summary>
    /// Classification: expected calibration error, the row-weighted mean gap between confidence (the top class's
    /// probability) and accuracy over <see cref="Evaluator.CalibrationBins"/> equal-width confidence bins.
    /// </summary>
    public double? Ece { get; init; }

    /// <summary>
    /// Classification: the standard deviation of the per-row log loss, so that a consumer can tell the sampling noise
    /// of <see cref="LogLoss"/> on these rows (its standard error is this over √<see cref="Count"/>).
    /// </summary>
    public double? LogLossSd { get; init; }
}

/// <summary>
/// Metrics on the rows where a categorical feature has one value, a numeric feature falls in one bucket, or (with
/// <see cref="Evaluator.ClassSlice"/> as the feature) the label is one class.
/// </summary>
/// <param name="Feature">The feature, or <see cref="Evaluator.ClassSlice"/>.</param>
/// <param name="Value">The value, bucket (<c>q2 [1.5, 3)</c>) or class; null stands for missing.</param>
/// <param name="Metrics">Metrics on those rows.</param>
public sealed record SliceMetrics(string Feature, string? Value, MetricValues Metrics);

/// <summary>A model's metrics on a dataset: overall, and per slice of each categorical feature's most frequent values.</summary>
/// <param name="Task">The model's task.</param>
/// <param name="Overall">Metrics on every row.</param>
/// <param name="Slices">Per feature, its most frequent values in descending count (ties by ordinal value).</param>
public sealed record ModelMetrics(ModelTask Task, MetricValues Overall, IReadOnlyList<SliceMetrics> Slices);

/// <summary>Computes <see cref="ModelMetrics"/>. Row weights are not applied.</summary>
public static class Evaluator
{
    /// <summary>Equal-width confidence bins of <see cref="MetricValues.Ece"/>.</summary>
    public const int CalibrationBins = 10;

    /// <summary>The slice feature name under which per-class metrics (rows whose label is the class) are reported.</summary>
    public const string ClassSlice = "@class";

    /// <summary>Predicts with the model's own forward pass and measures against the dataset's labels.</summary>
    /// <exception cref="ArgumentException">The dataset has no label, or lacks a model feature.</exception>
    public static ModelMetrics Evaluate(TrainedModel model, TabularDataset data, int topValuesPerFeature = 5)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        return Evaluate(model.Predict(data), data, topValuesPerFeature);
    }

    /// <summary>Measures predictions (from any source, e.g. ONNX Runtime) against the dataset's labels, row for row.</summary>
    /// <exception cref="ArgumentException">The dataset has no suitable label, or its row count differs from the predictions'.</exception>
    public static ModelMetrics Evaluate(ModelPredictions predictions, TabularDataset data, int topValuesPerFeature = 5) =>
        Evaluate(predictions, data, topValuesPerFeature, numericEdges: null, perClass: false);

    /// <summary>
    /// Measures predictions against the dataset's labels, overall and per slice: each categorical feature's most
    /// frequent values, each numeric feature named in <paramref name="numericEdges"/> by bucket, and, with
    /// <paramref name="perClass"/>, each class of the labels (<see cref="ClassSlice"/>).
    /// </summary>
    /// <param name="predictions">Predictions, row for row.</param>
    /// <param name="data">The rows with their labels.</param>
    /// <param name="topValuesPerFeature">How many values of each categorical feature get a slice.</param>
    /// <param name="numericEdges">Per numeric feature, ascending interior cut points (see <see cref="QuantileEdges"/>); missing values form their own slice.</param>
    /// <param name="perClass">Whether to add a slice per class (classification only).</param>
    /// <exception cref="ArgumentException">The dataset has no suitable label, or its row count differs from the predictions'.</exception>
    public static ModelMetrics Evaluate(
        ModelPredictions predictions, TabularDataset data, int topValuesPerFeature, IReadOnlyDictionary<string, double[]>? numericEdges, bool perClass)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(data);
        if (predictions.Rows != data.RowCount)
        {
            throw new ArgumentException($"There are {predictions.Rows} predictions for {data.RowCount} rows.", nameof(predictions));
        }

        if (predictions.Task == ModelTask.Regression ? data.NumericLabels is null : data.ClassLabels is null)
        {
            throw new ArgumentException($"The dataset has no {(predictions.Task == ModelTask.Regression ? "numeric" : "class")} label to evaluate against.", nameof(data));
        }

        int[]? truth = null;
        if (predictions.Task != ModelTask.Regression)
        {
            var index = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < predictions.Classes.Count; i++)
            {
                index[predictions.Classes[i]] = i;
            }

            truth = [.. data.ClassLabels!.Select(c => c is not null && index.TryGetValue(c, out var i) ? i : -1)];
        }

        var all = Enumerable.Range(0, data.RowCount).ToArray();
        var overall = Measure(predictions, truth, data.NumericLabels, all);
        var slices = new List<SliceMetrics>();
        foreach (var feature in data.Features.Where(f => f.Kind == FeatureKind.Categorical))
        {
            var column = data.GetCategorical(feature.Name);
            var groups = new Dictionary<string, List<int>>(StringComparer.Ordinal);
            var missing = new List<int>();
            for (var r = 0; r < column.Length; r++)
            {
                if (string.IsNullOrEmpty(column[r]))
                {
                    missing.Add(r);
                }
                else if (groups.TryGetValue(column[r]!, out var list))
                {
                    list.Add(r);
                }
                else
                {
                    groups[column[r]!] = [r];
                }
            }

            var top = groups.Select(g => (Value: (string?)g.Key, Rows: g.Value))
                .Append((Value: null, Rows: missing)).Where(g => g.Rows.Count > 0)
                .OrderByDescending(g => g.Rows.Count).ThenBy(g => g.Value ?? "", StringComparer.Ordinal)
                .Take(topValuesPerFeature);
            foreach (var (value, rows) in top)
            {
                slices.Add(new SliceMetrics(feature.Name, value, Measure(predictions, truth, data.NumericLabels, [.. rows])));
            }
        }

        foreach (var (name, edges) in numericEdges ?? new Dictionary<string, double[]>())
        {
            if (data.FindFeature(name) is not { Kind: FeatureKind.Numeric })
            {
                continue;
            }

            var column = data.GetNumeric(name);
            var buckets = new List<int>[edges.Length + 2];
            for (var b = 0; b < buckets.Length; b++)
            {
                buckets[b] = [];
            }

            for (var r = 0; r < column.Length; r++)
            {
                buckets[double.IsNaN(column[r]) ? edges.Length + 1 : Bucket(edges, column[r])].Add(r);
            }

            for (var b = 0; b < buckets.Length; b++)
            {
                if (buckets[b].Count > 0)
                {
                    slices.Add(new SliceMetrics(name, b > edges.Length ? null : BucketName(edges, b), Measure(predictions, truth, data.NumericLabels, [.. buckets[b]])));
                }
            }
        }

        if (perClass && truth is not null)
        {
            for (var c = 0; c < predictions.Classes.Count; c++)
            {
                var rows = Enumerable.Range(0, truth.Length).Where(r => truth[r] == c).ToArray();
                if (rows.Length > 0)
                {
                    slices.Add(new SliceMetrics(ClassSlice, predictions.Classes[c], Measure(predictions, truth, data.NumericLabels, rows)));
                }
            }
        }

        return new ModelMetrics(predictions.Task, overall, slices);
    }

    /// <summary>
    /// Interior cut points that split each numeric feature's non-missing values into <paramref name="buckets"/>
    /// buckets of about equal count (ties collapse, so a feature may get fewer buckets).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="buckets"/> is below 2.</exception>
    public static Dictionary<string, double[]> QuantileEdges(TabularDataset data, int buckets = 4)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfLessThan(buckets, 2);
        var result = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (var feature in data.Features.Where(f => f.Kind == FeatureKind.Numeric))
        {
            var sorted = data.GetNumeric(feature.Name).Where(v => !double.IsNaN(v)).Order().ToArray();
            if (sorted.Length == 0)
            {
                continue;
            }

            result[feature.Name] = [.. Enumerable.Range(1, buckets - 1)
                .Select(q => sorted[Math.Min(sorted.Length - 1, (int)((long)q * sorted.Length / buckets))])
                .Where(v => v > sorted[0]).Distinct()];
        }

        return result;
    }

    /// <summary>The bucket of <paramref name="value"/>: 0 below the first edge, i for [edge i-1, edge i).</summary>
    private static int Bucket(double[] edges, double value)
    {
        var b = 0;
        while (b < edges.Length && value >= edges[b])
        {
            b++;
        }

        return b;
    }

    private static string BucketName(double[] edges, int b) => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"q{b + 1} [{(b == 0 ? "-inf" : edges[b - 1].ToString("G6", System.Globalization.CultureInfo.InvariantCulture))}, {(b == edges.Length ? "inf" : edges[b].ToString("G6", System.Globalization.CultureInfo.InvariantCulture))})");

    /// <summary>
    /// Expected calibration error: rows binned by confidence into <paramref name="bins"/> equal-width bins over [0, 1];
    /// the sum over bins of (rows in bin / rows) × |accuracy in bin − mean confidence in bin|. Null when there are no rows.
    /// </summary>
    /// <param name="rows">Each row's confidence (the predicted class's probability) and whether the prediction was right.</param>
    /// <param name="bins">Number of bins (at least 1).</param>
    public static double? ExpectedCalibrationError(IEnumerable<(double Confidence, bool Correct)> rows, int bins = CalibrationBins)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        var count = new int[bins];
        var confidence = new double[bins];
        var correct = new int[bins];
        var total = 0;
        foreach (var (c, ok) in rows)
        {
            var b = Math.Clamp((int)(c * bins), 0, bins - 1);
            count[b]++;
            confidence[b] += c;
            correct[b] += ok ? 1 : 0;
            total++;
        }

        if (total == 0)
        {
            return null;
        }

        double ece = 0;
        for (var b = 0; b < bins; b++)
        {
            if (count[b] > 0)
            {
                ece += (double)count[b] / total * Math.Abs(((double)correct[b] / count[b]) - (confidence[b] / count[b]));
            }
        }

        return ece;
    }

    private static MetricValues Measure(ModelPredictions p, int[]? truth, double[]? numeric, int[] rows)
    {
        if (p.Task == ModelTask.Regression)
        {
            double se = 0, ae = 0;
            foreach (var r in rows)
            {
                var e = p.Values[r] - numeric![r];
                se += e * e;
                ae += Math.Abs(e);
            }

            return rows.Length == 0
                ? new MetricValues(0, null, null, null, null, null, null)
                : new MetricValues(rows.Length, null, null, null, null, Math.Sqrt(se / rows.Length), ae / rows.Length);
        }

        var classes = p.Columns;
        int correct = 0;
        double logLoss = 0, logLossSquares = 0;
        var tp = new int[classes];
        var fp = new int[classes];
        var fn = new int[classes];
        var calibration = new List<(double, bool)>(rows.Length);
        foreach (var r in rows)
        {
            var row = p.Values.AsSpan(r * classes, classes);
            var predicted = 0;
            for (var j = 1; j < classes; j++)
            {
                if (row[j] > row[predicted])
                {
                    predicted = j;
                }
            }

            var t = truth![r];
            calibration.Add((row[predicted], predicted == t));
            var loss = -Math.Log(Math.Clamp(t < 0 ? 0 : row[t], 1e-15, 1));
            logLoss += loss;
            logLossSquares += loss * loss;
            if (predicted == t)
            {
                correct++;
                tp[t]++;
            }
            else
            {
                fp[predicted]++;
                if (t >= 0)
                {
                    fn[t]++;
                }
            }
        }

        double f1Sum = 0;
        var present = 0;
        for (var j = 0; j < classes; j++)
        {
            if (tp[j] + fp[j] + fn[j] > 0)
            {
                present++;
                f1Sum += 2.0 * tp[j] / ((2.0 * tp[j]) + fp[j] + fn[j]);
            }
        }

        double? auc = p.Task == ModelTask.BinaryClassification ? RocAuc(p, truth!, rows) : null;
        return rows.Length == 0
            ? new MetricValues(0, null, null, null, null, null, null)
            : new MetricValues(rows.Length, (double)correct / rows.Length, logLoss / rows.Length, auc, present == 0 ? null : f1Sum / present, null, null)
            {
                Ece = ExpectedCalibrationError(calibration),
                LogLossSd = Math.Sqrt(Math.Max(0, (logLossSquares / rows.Length) - Math.Pow(logLoss / rows.Length, 2))),
            };
    }

    private static double? RocAuc(ModelPredictions p, int[] truth, int[] rows) =>
        RocAuc(rows.Where(r => truth[r] >= 0).Select(r => (p.Values[(2 * r) + 1], truth[r] == 1)));

    /// <summary>
    /// ROC AUC by Mann–Whitney: the chance that a random positive scores above a random negative, ties counted half;
    /// null when either class is absent.
    /// </summary>
    /// <param name="scored">Each row's score for the positive class and whether it is positive.</param>
    public static double? RocAuc(IEnumerable<(float Score, bool Positive)> scored)
    {
        ArgumentNullException.ThrowIfNull(scored);
        var sorted = scored.OrderBy(x => x.Score).ToArray();
        long positives = sorted.Count(x => x.Positive);
        long negatives = sorted.Length - positives;
        if (positives == 0 || negatives == 0)
        {
            return null;
        }

        double rankSum = 0;
        for (var i = 0; i < sorted.Length;)
        {
            var j = i;
            while (j < sorted.Length && sorted[j].Score == sorted[i].Score)
            {
                j++;
            }

            var averageRank = ((i + 1) + j) / 2.0;
            for (var k = i; k < j; k++)
            {
                if (sorted[k].Positive)
                {
                    rankSum += averageRank;
                }
            }

            i = j;
        }

        return (rankSum - (positives * (positives + 1) / 2.0)) / ((double)positives * negatives);
    }
}
