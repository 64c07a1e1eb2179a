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
}
