using Ctm.Ml.Engine;

namespace Ctm.Ml.Tests;

public sealed class LearningTests
{
    [Fact]
    public void Train_XorOnTwoFeatures_ReachesOver95PercentAccuracy()
    {
        static TabularDataset Xor(int rows, int seed)
        {
            var rng = new Rng((ulong)seed);
            var a = new double[rows];
            var b = new double[rows];
            var y = new string[rows];
            for (var i = 0; i < rows; i++)
            {
                a[i] = (rng.NextDouble() * 2) - 1;
                b[i] = (rng.NextDouble() * 2) - 1;
                y[i] = (a[i] > 0) ^ (b[i] > 0) ? "true" : "false";
            }

            return TabularDataset.CreateBuilder().AddNumeric("a", a).AddNumeric("b", b).WithLabel("xor", y).Build();
        }

        var options = new TrainingOptions
        {
            Task = ModelTask.BinaryClassification, HiddenLayers = [16, 16], Epochs = 40, BatchSize = 64, LearningRate = 1e-2,
        };
        var model = new ManagedTrainingEngine().Train(Xor(4000, 1), options);
        var metrics = Evaluator.Evaluate(model, Xor(2000, 2));

        Assert.True(metrics.Overall.Accuracy > 0.95, $"accuracy {metrics.Overall.Accuracy}");
        Assert.True(model.LossCurve[^1] < model.LossCurve[0] / 3, $"loss curve {string.Join(", ", model.LossCurve)}");
    }

    [Fact]
    public void Train_LinearRegression_RecoversKnownCoefficients()
    {
        var rng = new Rng(3);
        const int rows = 5000;
        var x1 = new double[rows];
        var x2 = new double[rows];
        var x3 = new double[rows];
        var y = new double[rows];
        for (var i = 0; i < rows; i++)
        {
            x1[i] = rng.NextGaussian();
            x2[i] = (rng.NextGaussian() * 5) + 2;
            x3[i] = rng.NextDouble() * 10;
            y[i] = (3 * x1[i]) - (2 * x2[i]) + (0.5 * x3[i]) + 1 + (0.01 * rng.NextGaussian());
        }

        var data = TabularDataset.CreateBuilder().AddNumeric("x1", x1).AddNumeric("x2", x2).AddNumeric("x3", x3).WithLabel("y", y).Build();
        var options = new TrainingOptions { Task = ModelTask.Regression, Epochs = 60, BatchSize = 128, LearningRate = 2e-2 };
        var model = new ManagedTrainingEngine().Train(data, options);

        // A linear model's prediction at a unit vector minus its prediction at zero is that coefficient.
        var probe = TabularDataset.CreateBuilder()
            .AddNumeric("x1", [0, 1, 0, 0]).AddNumeric("x2", [0, 0, 1, 0]).AddNumeric("x3", [0, 0, 0, 1]).Build();
        var p = model.Predict(probe).Values;
        Assert.Equal(1.0, p[0], 0.05);
        Assert.Equal(3.0, p[1] - p[0], 0.02);
        Assert.Equal(-2.0, p[2] - p[0], 0.02);
        Assert.Equal(0.5, p[3] - p[0], 0.02);
        Assert.True(Evaluator.Evaluate(model, data).Overall.Rmse < 0.05);
    }

    [Fact]
    public void Train_CategoricalEffects_AreLearnedThroughTheEmbeddingRows()
    {
        var train = TestData.Mixed(ModelTask.MulticlassClassification, 4000, seed: 8);
        var test = TestData.Mixed(ModelTask.MulticlassClassification, 1000, seed: 9);
        var options = TestData.Options(ModelTask.MulticlassClassification, 16) with { Epochs = 15 };

        var metrics = Evaluator.Evaluate(new ManagedTrainingEngine().Train(train, options), test);

        Assert.True(metrics.Overall.Accuracy > 0.8, $"accuracy {metrics.Overall.Accuracy}");
        Assert.True(metrics.Overall.MacroF1 > 0.75, $"macro F1 {metrics.Overall.MacroF1}");
    }
}
