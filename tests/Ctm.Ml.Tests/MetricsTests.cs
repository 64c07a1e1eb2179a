namespace Ctm.Ml.Tests;

public sealed class MetricsTests
{
    [Fact]
    public void Evaluate_Binary_ComputesAccuracyLogLossAndAuc()
    {
        var data = TabularDataset.CreateBuilder().AddCategorical("c", ["a", "a", "b", "b"]).WithLabel("y", ["0", "1", "1", "0"]).Build();
        var predictions = new ModelPredictions(ModelTask.BinaryClassification, ["0", "1"], 2, [0.9f, 0.1f, 0.2f, 0.8f, 0.6f, 0.4f, 0.5f, 0.5f], null);

        var m = Evaluator.Evaluate(predictions, data);

        Assert.Equal(0.75, m.Overall.Accuracy!.Value, 9);
        Assert.Equal(-(Math.Log(0.9) + Math.Log(0.8) + Math.Log(0.4) + Math.Log(0.5)) / 4, m.Overall.LogLoss!.Value, 6);
        // Positives score 0.8 and 0.4; negatives 0.1 and 0.5: 3 of 4 pairs ordered right. The 0.5/0.5 tie predicts class 0.
        Assert.Equal(0.75, m.Overall.RocAuc!.Value, 9);
        var sliceA = Assert.Single(m.Slices, s => s.Value == "a");
        Assert.Equal(1.0, sliceA.Metrics.Accuracy);
        Assert.Equal(2, sliceA.Metrics.Count);
    }

    [Fact]
    public void Evaluate_Multiclass_ComputesMacroF1()
    {
        var data = TabularDataset.CreateBuilder().AddNumeric("x", [0, 0, 0, 0]).WithLabel("y", ["a", "b", "c", "c"]).Build();
        var predictions = new ModelPredictions(ModelTask.MulticlassClassification, ["a", "b", "c"], 3,
            [1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 1, 0], null);

        var m = Evaluator.Evaluate(predictions, data);

        // F1: a = 2/3, b = 0, c = 2/3.
        Assert.Equal((2.0 / 3 + 0 + 2.0 / 3) / 3, m.Overall.MacroF1!.Value, 9);
        Assert.Equal(0.5, m.Overall.Accuracy!.Value, 9);
        Assert.Null(m.Overall.RocAuc);
    }

    [Fact]
    public void Evaluate_Regression_ComputesRmseAndMaeOverallAndPerTopSlice()
    {
        var data = TabularDataset.CreateBuilder().AddCategorical("c", ["a", "a", "b", null, "d", "e", "f", "g"])
            .WithLabel("y", [1.0, 2, 3, 4, 5, 6, 7, 8]).Build();
        var predictions = new ModelPredictions(ModelTask.Regression, [], 1, [1, 4, 3, 4, 5, 6, 7, 8], null);

        var m = Evaluator.Evaluate(predictions, data, topValuesPerFeature: 3);

        Assert.Equal(Math.Sqrt(4.0 / 8), m.Overall.Rmse!.Value, 9);
        Assert.Equal(2.0 / 8, m.Overall.Mae!.Value, 9);
        Assert.Equal(3, m.Slices.Count);
        Assert.Equal("a", m.Slices[0].Value);
        Assert.Equal(1.0, m.Slices[0].Metrics.Mae!.Value, 9);
    }

    [Fact]
    public void Evaluate_MissingValues_AreTheirOwnSlice()
    {
        var data = TabularDataset.CreateBuilder().AddCategorical("c", [null, null, "a"]).WithLabel("y", [1.0, 1, 1]).Build();
        var predictions = new ModelPredictions(ModelTask.Regression, [], 1, [1, 1, 1], null);

        var m = Evaluator.Evaluate(predictions, data);

        Assert.Null(m.Slices[0].Value);
        Assert.Equal(2, m.Slices[0].Metrics.Count);
    }

    [Fact]
    public void Evaluate_Binary_ComputesExpectedCalibrationError()
    {
        var data = TabularDataset.CreateBuilder().AddNumeric("x", [0, 0, 0, 0]).WithLabel("y", ["0", "1", "1", "0"]).Build();
        var predictions = new ModelPredictions(ModelTask.BinaryClassification, ["0", "1"], 2, [0.9f, 0.1f, 0.2f, 0.8f, 0.6f, 0.4f, 0.5f, 0.5f], null);

        var m = Evaluator.Evaluate(predictions, data);

        // Confidence 0.9 right, 0.8 right, 0.6 wrong, 0.5 right: gaps 0.1, 0.2, 0.6, 0.5, a quarter of the rows each.
        Assert.Equal(0.35, m.Overall.Ece!.Value, 6);
    }

    [Fact]
    public void ExpectedCalibrationError_PerfectlyCalibratedBins_IsZero_AndOverconfidenceShows()
    {
        // In the 0.75 bin three of four right; in the 0.25-confidence bin (impossible for a top class, but allowed) one of four.
        var calibrated = new[] { (0.75, true), (0.75, true), (0.75, true), (0.75, false) };
        Assert.Equal(0.0, Evaluator.ExpectedCalibrationError(calibrated)!.Value, 9);

        var overconfident = new[] { (0.95, true), (0.95, false), (0.95, true), (0.95, false) };
        Assert.Equal(0.45, Evaluator.ExpectedCalibrationError(overconfident)!.Value, 9);
        Assert.Null(Evaluator.ExpectedCalibrationError([]));
    }

    [Fact]
    public void Evaluate_NumericBucketsAndClasses_AreSlices()
    {
        var x = new double[] { 1, 2, 3, 4, 5, 6, 7, 8 };
        var data = TabularDataset.CreateBuilder().AddNumeric("x", x).WithLabel("y", ["0", "0", "0", "0", "1", "1", "1", "1"]).Build();
        // Right on the low half, wrong on the high half.
        var predictions = new ModelPredictions(ModelTask.BinaryClassification, ["0", "1"], 2,
            [.. x.SelectMany(_ => new[] { 0.8f, 0.2f })], null);

        var edges = Evaluator.QuantileEdges(data, 4);
        var m = Evaluator.Evaluate(predictions, data, 5, edges, perClass: true);

        Assert.Equal([3.0, 5.0, 7.0], edges["x"]);
        var buckets = m.Slices.Where(s => s.Feature == "x").ToList();
        Assert.Equal(["q1 [-inf, 3)", "q2 [3, 5)", "q3 [5, 7)", "q4 [7, inf)"], buckets.Select(s => s.Value));
        Assert.Equal([1.0, 1.0, 0.0, 0.0], buckets.Select(s => s.Metrics.Accuracy!.Value));
        var classes = m.Slices.Where(s => s.Feature == Evaluator.ClassSlice).ToList();
        Assert.Equal(["0", "1"], classes.Select(s => s.Value));
        Assert.Equal([1.0, 0.0], classes.Select(s => s.Metrics.Accuracy!.Value));
    }
}
