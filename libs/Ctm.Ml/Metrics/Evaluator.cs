namespace Ctm.Ml;

/// <summary>Metrics on a set of rows. A metric that does not apply to the task (or is undefined, such as ROC AUC with one class present) is null.</summary>
/// <param name="Count">Rows measured.</param>
/// <param name="Accuracy">Classification: share of rows whose predicted class is the label.</param>
/// <param name="LogLoss">Classification: mean −ln p(label), p clipped to [1e-15, 1].</param>
/// <param name="RocAuc">Binary: area under the ROC curve of the positive class (index 1), ties counted half.</param>
/// <param name="MacroF1">Classification: unweighted mean F1 over classes present in the labels or the predictions.</param>
/// <param name="Rmse">Regression: root mean squared error.</param>
/// <param name="Mae">Regression: mean absolute error.</param>
public sealed record MetricValues(int Count, double? Accuracy, double? LogLoss, double? RocAuc, double? MacroF1, double? Rmse, double? Mae);

/// <summary>Metrics on the rows where a categorical feature has one value.</summary>
/// <param name="Feature">The categorical feature.</param>
/// <param name="Value">The value; null stands for missing.</param>
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
    public static ModelMetrics Evaluate(ModelPredictions predictions, TabularDataset data, int topValuesPerFeature = 5)
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

        return new ModelMetrics(predictions.Task, overall, slices);
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
        double logLoss = 0;
        var tp = new int[classes];
        var fp = new int[classes];
        var fn = new int[classes];
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
            logLoss -= Math.Log(Math.Clamp(t < 0 ? 0 : row[t], 1e-15, 1));
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
            : new MetricValues(rows.Length, (double)correct / rows.Length, logLoss / rows.Length, auc, present == 0 ? null : f1Sum / present, null, null);
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
