using Ctm.Ml;
using Ctm.Trainer.Quality;

namespace Ctm.Trainer.Tests;

public sealed class NamedSlicesTests
{
    // Six rows: plan and amount; the model is right (p = 0.9) on every row but the two "pro" rows with amount >= 100.
    private static readonly TabularDataset Data = TabularDataset.CreateBuilder()
        .AddCategorical("plan", ["basic", "pro", "pro", "basic", "pro", "team"])
        .AddNumeric("amount", [10, 150, 200, 120, 50, double.NaN])
        .WithLabel("y", ["yes", "no", "no", "yes", "yes", "no"])
        .Build();

    private static readonly ModelPredictions Predictions = new(ModelTask.BinaryClassification, ["no", "yes"], 2,
        [0.1f, 0.9f, 0.1f, 0.9f, 0.1f, 0.9f, 0.1f, 0.9f, 0.1f, 0.9f, 0.9f, 0.1f], ["yes", "yes", "yes", "yes", "yes", "no"]);

    [Fact]
    public void Measure_ValueAndRangeSlices_ScoreExactlyTheirRows()
    {
        var measured = NamedSlices.Measure(Predictions, Data,
        [
            new NamedSlice("pro", "plan", "pro", null, null),
            new NamedSlice("big", "amount", null, 100, null),
            new NamedSlice("small", "amount", null, null, 100),
            new NamedSlice("nobody", "plan", "enterprise", null, null),
            new NamedSlice("unknown feature", "region", "eu", null, null),
        ]);

        Assert.Equal(["pro", "big", "small"], measured.Select(m => m.Value));
        Assert.All(measured, m => Assert.Equal(NamedSlices.Feature, m.Feature));
        var pro = measured[0].Metrics;
        Assert.Equal(3, pro.Count);
        Assert.Equal(1.0 / 3, pro.Accuracy!.Value, 6);
        var big = measured[1].Metrics; // rows 1, 2, 3 (amount 150, 200, 120); the missing amount is in no range
        Assert.Equal(3, big.Count);
        Assert.Equal(1.0 / 3, big.Accuracy!.Value, 6);
        Assert.Equal(((2 * -Math.Log(0.1)) - Math.Log(0.9)) / 3, big.LogLoss!.Value, 4);
        var small = measured[2].Metrics; // rows 0 and 4
        Assert.Equal(2, small.Count);
        Assert.Equal(1.0, small.Accuracy!.Value, 6);
    }

    [Fact]
    public void Validate_UnusableSlices_NameEachProblem()
    {
        var errors = NamedSlices.Validate(
        [
            new NamedSlice("", "plan", "pro", null, null),
            new NamedSlice("both", "amount", "3", 1, 2),
            new NamedSlice("neither", "amount", null, null, null),
            new NamedSlice("upside down", "amount", null, 5, 5),
            new NamedSlice("ok", "plan", "pro", null, null),
            new NamedSlice("ok", "amount", null, 1, null),
        ]);

        Assert.Equal(["slices[0]", "slices[1]", "slices[2]", "slices[3]", "slices[5]"], errors.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("a value and a range", errors["slices[1]"][0], StringComparison.Ordinal);
        Assert.Contains("not below max", errors["slices[3]"][0], StringComparison.Ordinal);
        Assert.Contains("named twice", errors["slices[5]"][0], StringComparison.Ordinal);
        Assert.Empty(NamedSlices.Validate([new NamedSlice("pro", "plan", "pro", null, null), new NamedSlice("mid", "amount", null, 10, 100)]));
    }
}
