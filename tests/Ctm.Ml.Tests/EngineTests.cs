using Ctm.Ml.Engine;

namespace Ctm.Ml.Tests;

public sealed class EngineTests
{
    [Fact]
    public void Train_WithProgress_ReportsEveryEpochAndKeepsTheLossCurve()
    {
        var progress = new ListProgress();
        var options = TestData.Options(ModelTask.BinaryClassification, 8) with { Epochs = 4 };

        var model = new ManagedTrainingEngine().Train(TestData.Mixed(ModelTask.BinaryClassification, 1000, 1), options, progress: progress);

        Assert.Equal(4, model.LossCurve.Count);
        Assert.Equal([1, 2, 3, 4], progress.Reports.Where(r => r.Batch == r.BatchesPerEpoch).Select(r => r.Epoch));
        Assert.All(progress.Reports, r => Assert.True(r.SamplesPerSecond > 0 && r.Loss > 0));
        Assert.Equal(1.0, progress.Reports[^1].Fraction, 9);
        Assert.Equal(model.LossCurve[^1], progress.Reports[^1].Loss, 9);
    }

    [Fact]
    public void Train_Cancelled_Throws()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => new ManagedTrainingEngine().Train(
            TestData.Mixed(ModelTask.Regression, 100, 1), TestData.Options(ModelTask.Regression), cancellationToken: cts.Token));
    }

    [Fact]
    public void Estimate_ShortWarmup_ProjectsTheFullRun()
    {
        var options = TestData.Options(ModelTask.BinaryClassification, 32) with { Epochs = 20 };

        var estimate = new ManagedTrainingEngine().Estimate(TestData.Mixed(ModelTask.BinaryClassification, 5000, 1), options, warmup: TimeSpan.FromMilliseconds(200));

        Assert.True(estimate.SamplesPerSecond > 1000);
        Assert.InRange(estimate.CpuUtilization, 0.01, 1);
        Assert.True(estimate.PeakMemoryBytes > 0);
        Assert.InRange(estimate.ProjectedDuration.TotalSeconds, 20 * 5000 / estimate.SamplesPerSecond, (20 * 5000 / estimate.SamplesPerSecond) + 5);
        Assert.InRange(estimate.WarmupDuration.TotalMilliseconds, 200, 2000);
    }

    [Fact]
    public void State_RoundTripsThroughBytes()
    {
        var model = new ManagedTrainingEngine().Train(TestData.Mixed(ModelTask.MulticlassClassification, 300, 1), TestData.Options(ModelTask.MulticlassClassification, 8));
        var bytes = model.State.ToBytes();

        var loaded = TrainedModel.FromState(ModelState.FromBytes(bytes));

        Assert.Equal(bytes, loaded.State.ToBytes());
        var input = OnnxParityTests.RandomInputs(50, 1);
        Assert.Equal(model.Predict(input).Values, loaded.Predict(input).Values);
    }

    [Fact]
    public void Split_IsDeterministicAndDisjoint()
    {
        var data = TestData.Mixed(ModelTask.Regression, 100, 1);

        var (train, test) = data.Split(0.2, seed: 5);
        var (train2, _) = data.Split(0.2, seed: 5);

        Assert.Equal(80, train.RowCount);
        Assert.Equal(20, test.RowCount);
        Assert.Equal(train.GetNumeric("x1"), train2.GetNumeric("x1"));
        Assert.Empty(train.GetNumeric("x1").Intersect(test.GetNumeric("x1")));
    }
}

public sealed class DatasetTests
{
    [Fact]
    public void Concat_BatchesWithColumnsInAnotherOrder_AppendsByName()
    {
        var a = TabularDataset.CreateBuilder().AddNumeric("x", [1, 2]).AddCategorical("c", ["p", null]).WithLabel("y", ["a", "b"]).Build();
        var b = TabularDataset.CreateBuilder().AddCategorical("c", ["q"]).AddNumeric("x", [3]).WithLabel("y", ["a"]).Build();

        var all = TabularDataset.Concat([a, b]);

        Assert.Equal(3, all.RowCount);
        Assert.Equal([1.0, 2, 3], all.GetNumeric("x"));
        Assert.Equal(new[] { "p", "", "q" }, all.GetCategorical("c").Select(v => v ?? "").ToArray());
        Assert.Equal(new[] { "a", "b", "a" }, all.ClassLabels!.Select(v => v ?? "").ToArray());
    }

    [Fact]
    public void Concat_DifferentFeatures_Throws()
    {
        var a = TabularDataset.CreateBuilder().AddNumeric("x", [1]).WithLabel("y", [1.0]).Build();
        var b = TabularDataset.CreateBuilder().AddCategorical("x", ["1"]).WithLabel("y", [1.0]).Build();

        Assert.Throws<ArgumentException>(() => TabularDataset.Concat([a, b]));
    }
}
