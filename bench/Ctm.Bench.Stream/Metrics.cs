namespace Ctm.Bench.Stream;

/// <summary>
/// One model's class probabilities for every row of one batch, in the batch's row order; a null row means the model
/// had nothing to predict it with (no version serving yet, or the request failed).
/// </summary>
public sealed record BatchPrediction(int Batch, IReadOnlyDictionary<string, double>?[] Rows);

/// <summary>What a model scored over the evaluated batches, pooled and per batch.</summary>
/// <param name="Model">The model's name in the table.</param>
/// <param name="Rows">Rows scored (rows without a label are left out).</param>
/// <param name="MissingRows">Rows the model had no prediction for: scored as a uniform guess over the stream's classes.</param>
/// <param name="PooledAuc">Binary: ROC AUC over every scored row together.</param>
/// <param name="MeanBatchAuc">Binary: the mean of the per-batch AUCs (batches with one class left out).</param>
/// <param name="Accuracy">Multiclass: share of rows whose most probable class is the label.</param>
/// <param name="LogLoss">Mean of −ln p(label), p clipped to [1e-15, 1 − 1e-15]; a class the model cannot predict gets the clipped loss.</param>
/// <param name="BatchMetric">Per batch index over the whole stream: AUC (binary) or accuracy (multiclass); NaN where not evaluated.</param>
/// <param name="BatchLogLoss">Per batch index: mean log loss; NaN where not evaluated.</param>
public sealed record Evaluation(
    string Model, int Rows, int MissingRows, double? PooledAuc, double? MeanBatchAuc, double? Accuracy, double LogLoss,
    double[] BatchMetric, double[] BatchLogLoss)
{
    /// <summary>The headline number: pooled AUC for a binary stream, accuracy for a multiclass one.</summary>
    public double Primary => PooledAuc ?? Accuracy ?? double.NaN;
}

/// <summary>Prequential metrics: every number here is computed from predictions made before the batch's labels were seen.</summary>
public static class StreamMetrics
{
    public const double ProbabilityClip = 1e-15;

    /// <summary>−ln p, p clipped to [1e-15, 1 − 1e-15] (NaN counts as 0: a broken prediction is not rewarded).</summary>
    public static double LogLoss(double probabilityOfLabel)
    {
        var p = double.IsNaN(probabilityOfLabel) ? 0 : probabilityOfLabel;
        return -Math.Log(Math.Clamp(p, ProbabilityClip, 1 - ProbabilityClip));
    }

    /// <summary>
    /// ROC AUC as the Mann–Whitney statistic: the probability that a random positive scores above a random negative,
    /// ties counting one half (average ranks). Null when either class is absent.
    /// </summary>
    public static double? RocAuc(IReadOnlyList<double> scores, IReadOnlyList<bool> positive)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(positive);
        if (scores.Count != positive.Count)
        {
            throw new ArgumentException($"{scores.Count} scores for {positive.Count} labels");
        }

        var order = Enumerable.Range(0, scores.Count).OrderBy(i => scores[i]).ToArray();
        double positives = 0, rankSum = 0;
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            while (end + 1 < order.Length && scores[order[end + 1]] == scores[order[start]])
            {
                end++;
            }

            var averageRank = ((start + end) / 2.0) + 1; // ranks from 1
            for (var k = start; k <= end; k++)
            {
                if (positive[order[k]])
                {
                    positives++;
                    rankSum += averageRank;
                }
            }

            start = end + 1;
        }

        var negatives = scores.Count - positives;
        if (positives == 0 || negatives == 0)
        {
            return null;
        }

        return (rankSum - (positives * (positives + 1) / 2)) / (positives * negatives);
    }

    /// <summary>The most probable class (first in ordinal order on a tie, so the answer does not depend on dictionary order).</summary>
    public static string? Argmax(IReadOnlyDictionary<string, double> probabilities)
    {
        string? best = null;
        var bestP = double.NegativeInfinity;
        foreach (var (label, p) in probabilities.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (p > bestP)
            {
                (best, bestP) = (label, p);
            }
        }

        return best;
    }

    /// <summary>
    /// Scores <paramref name="predictions"/> on the batches in <paramref name="evaluated"/> only (the same rows for every
    /// model): the prediction for batch b is matched to batch b's labels by index, never by position in a list.
    /// </summary>
    /// <param name="model">The model's name.</param>
    /// <param name="binary">True for a binary stream (AUC of <paramref name="positiveClass"/>), false for multiclass (accuracy).</param>
    /// <param name="positiveClass">The class whose probability is the AUC score.</param>
    /// <param name="classes">Every class of the stream, for the uniform guess of a missing prediction.</param>
    /// <param name="labels">Labels per batch index over the whole stream.</param>
    /// <param name="evaluated">The batch indices to score.</param>
    /// <param name="predictions">The model's predictions, at most one per batch index.</param>
    public static Evaluation Evaluate(
        string model, bool binary, string positiveClass, IReadOnlyList<string> classes,
        IReadOnlyList<string?[]> labels, IReadOnlyList<int> evaluated, IEnumerable<BatchPrediction> predictions)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(evaluated);
        ArgumentNullException.ThrowIfNull(classes);
        var byBatch = predictions.ToDictionary(p => p.Batch);
        var uniform = 1.0 / Math.Max(2, classes.Count);
        var batchMetric = Enumerable.Repeat(double.NaN, labels.Count).ToArray();
        var batchLogLoss = Enumerable.Repeat(double.NaN, labels.Count).ToArray();
        var allScores = new List<double>();
        var allPositive = new List<bool>();
        var batchAucs = new List<double>();
        double lossSum = 0, correct = 0;
        int rows = 0, missing = 0;
        foreach (var b in evaluated)
        {
            var batchLabels = labels[b];
            var rowPredictions = byBatch.TryGetValue(b, out var p) ? p.Rows : new IReadOnlyDictionary<string, double>?[batchLabels.Length];
            if (rowPredictions.Length != batchLabels.Length)
            {
                throw new InvalidOperationException($"{model}: {rowPredictions.Length} predictions for the {batchLabels.Length} rows of batch {b}");
            }

            var scores = new List<double>();
            var positive = new List<bool>();
            double batchLoss = 0, batchCorrect = 0;
            var batchRows = 0;
            for (var r = 0; r < batchLabels.Length; r++)
            {
                if (batchLabels[r] is not { } label)
                {
                    continue;
                }

                var row = rowPredictions[r];
                missing += row is null ? 1 : 0;
                var pLabel = row is null ? uniform : row.GetValueOrDefault(label, 0);
                batchLoss += LogLoss(pLabel);
                batchRows++;
                if (binary)
                {
                    scores.Add(row is null ? 0.5 : row.GetValueOrDefault(positiveClass, 0));
                    positive.Add(label == positiveClass);
                }
                else if (row is not null && Argmax(row) == label)
                {
                    batchCorrect++;
                }
            }

            rows += batchRows;
            lossSum += batchLoss;
            correct += batchCorrect;
            batchLogLoss[b] = batchRows == 0 ? double.NaN : batchLoss / batchRows;
            if (binary)
            {
                var auc = RocAuc(scores, positive);
                batchMetric[b] = auc ?? double.NaN;
                if (auc is { } a)
                {
                    batchAucs.Add(a);
                }

                allScores.AddRange(scores);
                allPositive.AddRange(positive);
            }
            else
            {
                batchMetric[b] = batchRows == 0 ? double.NaN : batchCorrect / batchRows;
            }
        }

        return new Evaluation(
            model, rows, missing,
            binary ? RocAuc(allScores, allPositive) : null,
            binary && batchAucs.Count > 0 ? batchAucs.Average() : null,
            binary || rows == 0 ? null : correct / rows,
            rows == 0 ? double.NaN : lossSum / rows,
            batchMetric, batchLogLoss);
    }

    /// <summary>The value below which a share <paramref name="q"/> of the sorted values lie (linear interpolation).</summary>
    public static double Quantile(IReadOnlyList<double> sorted, double q)
    {
        if (sorted.Count == 0)
        {
            return double.NaN;
        }

        var position = q * (sorted.Count - 1);
        var low = (int)Math.Floor(position);
        var high = Math.Min(low + 1, sorted.Count - 1);
        return sorted[low] + ((position - low) * (sorted[high] - sorted[low]));
    }
}
