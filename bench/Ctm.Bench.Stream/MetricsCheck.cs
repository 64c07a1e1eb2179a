using System.Globalization;

namespace Ctm.Bench.Stream;

/// <summary>
/// Checks of the metric code against values worked out by hand, run before every benchmark (a few microseconds):
/// a benchmark whose arithmetic is wrong must not print a table. <c>--check</c> runs only these.
/// </summary>
public static class MetricsCheck
{
    public static IReadOnlyList<string> Failures()
    {
        var failures = new List<string>();
        void Expect(string what, double? actual, double? expected)
        {
            if (actual is null != expected is null || (actual is { } a && expected is { } e && Math.Abs(a - e) > 1e-12))
            {
                failures.Add(string.Create(CultureInfo.InvariantCulture, $"{what}: got {actual?.ToString("R", CultureInfo.InvariantCulture) ?? "null"}, expected {expected?.ToString("R", CultureInfo.InvariantCulture) ?? "null"}"));
            }
        }

        // Perfect ranking, reversed ranking, all tied.
        Expect("AUC perfect", StreamMetrics.RocAuc([0.1, 0.2, 0.8, 0.9], [false, false, true, true]), 1);
        Expect("AUC reversed", StreamMetrics.RocAuc([0.9, 0.8, 0.2, 0.1], [false, false, true, true]), 0);
        Expect("AUC all tied", StreamMetrics.RocAuc([0.5, 0.5, 0.5, 0.5], [false, true, false, true]), 0.5);
        // Pairs (positive, negative): (0.4, 0.1) win, (0.4, 0.4) tie, (0.4, 0.6) loss, (0.8, *) 3 wins: (1 + 0.5 + 0 + 3) / 6 = 0.75.
        Expect("AUC with a tie", StreamMetrics.RocAuc([0.1, 0.4, 0.6, 0.4, 0.8], [false, false, false, true, true]), 0.75);
        Expect("AUC one class", StreamMetrics.RocAuc([0.1, 0.2], [true, true]), null);

        Expect("log loss of 0.5", StreamMetrics.LogLoss(0.5), Math.Log(2));
        Expect("log loss of 0 is clipped", StreamMetrics.LogLoss(0), -Math.Log(1e-15));
        Expect("log loss of 1 is clipped", StreamMetrics.LogLoss(1), -Math.Log(1 - 1e-15));
        Expect("log loss of NaN is the worst", StreamMetrics.LogLoss(double.NaN), -Math.Log(1e-15));

        // Alignment: predictions are matched to batches by index, whatever order they come in; batch 1 is not
        // evaluated (a corrupt batch), so its perfect-looking prediction must not count.
        var labels = new[] { new string?[] { "1", "0" }, ["1", "0"], ["0", "1"] };
        Dictionary<string, double> P(double p1) => new() { ["1"] = p1, ["0"] = 1 - p1 };
        var predictions = new[]
        {
            new BatchPrediction(2, [P(0.2), P(0.9)]),
            new BatchPrediction(1, [P(1), P(0)]),
            new BatchPrediction(0, [P(0.2), P(0.6)]),
        };
        var binary = StreamMetrics.Evaluate("check", binary: true, "1", ["0", "1"], labels, [0, 2], predictions);
        Expect("batch 0 AUC (reversed)", binary.BatchMetric[0], 0);
        Expect("batch 1 is not evaluated", double.IsNaN(binary.BatchMetric[1]) ? null : binary.BatchMetric[1], null);
        Expect("batch 2 AUC (perfect)", binary.BatchMetric[2], 1);
        // Pooled scores: positives 0.2 (b0), 0.9 (b2); negatives 0.6 (b0), 0.2 (b2): pairs 0.2/0.6 loss, 0.2/0.2 tie, 0.9 wins twice.
        Expect("pooled AUC", binary.PooledAuc, 2.5 / 4);
        Expect("mean batch AUC", binary.MeanBatchAuc, 0.5);
        Expect("batch 0 log loss", binary.BatchLogLoss[0], (-Math.Log(0.2) - Math.Log(0.4)) / 2);
        Expect("pooled log loss", binary.LogLoss, (-Math.Log(0.2) - Math.Log(0.4) - Math.Log(0.8) - Math.Log(0.9)) / 4);

        // Multiclass: a class the model does not know gets the clipped loss; a missing prediction is a uniform guess.
        var multi = StreamMetrics.Evaluate("check", binary: false, "", ["rain", "snow", "sun"],
            [["sun", "snow"], ["rain"]], [0, 1],
            [new BatchPrediction(0, [new Dictionary<string, double> { ["sun"] = 0.7, ["rain"] = 0.3 }, new Dictionary<string, double> { ["sun"] = 0.7, ["rain"] = 0.3 }]), new BatchPrediction(1, [null])]);
        Expect("accuracy", multi.Accuracy, 1.0 / 3);
        Expect("multiclass log loss", multi.LogLoss, (-Math.Log(0.7) - Math.Log(1e-15) + Math.Log(3)) / 3);
        Expect("missing rows", multi.MissingRows, 1);

        Expect("median", StreamMetrics.Quantile([1, 2, 3, 4], 0.5), 2.5);
        Expect("p90", StreamMetrics.Quantile([0, 10], 0.9), 9);
        return failures;
    }
}
