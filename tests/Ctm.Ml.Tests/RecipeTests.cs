using Ctm.Ml.Continual;
using Ctm.Ml.Engine;
using Ctm.Onnx;

namespace Ctm.Ml.Tests;

/// <summary>The training recipe's parts: early stopping, the schedule, weight decay, calibration, warm updates with replay.</summary>
public sealed class RecipeTests
{
    private static readonly ManagedTrainingEngine Engine = new();

    /// <summary>A noisy binary problem a wide network overfits in a few epochs at a high rate.</summary>
    private static TabularDataset Noisy(int rows, int seed, double labelNoise = 0.3)
    {
        var rng = new Rng((ulong)seed);
        var x = new double[rows];
        var z = new double[rows];
        var y = new string[rows];
        for (var i = 0; i < rows; i++)
        {
            x[i] = rng.NextGaussian();
            z[i] = rng.NextGaussian();
            var positive = x[i] + (0.3 * z[i]) > 0;
            y[i] = positive ^ (rng.NextDouble() < labelNoise) ? "yes" : "no";
        }

        return TabularDataset.CreateBuilder().AddNumeric("x", x).AddNumeric("z", z).WithLabel("y", y).Build();
    }

    /// <summary>Every fourth label replaced by another class: noise no model can learn, so a fitted model is overconfident.</summary>
    private static TabularDataset WithLabelNoise(TabularDataset data, int seed)
    {
        var rng = new Rng((ulong)seed);
        var classes = data.ClassLabels!.Distinct().Order(StringComparer.Ordinal).ToArray();
        var labels = data.ClassLabels!;
        for (var i = 0; i < labels.Length; i++)
        {
            if (rng.NextDouble() < 0.25)
            {
                labels[i] = classes[(Array.IndexOf(classes, labels[i]) + 1 + rng.NextInt(classes.Length - 1)) % classes.Length];
            }
        }

        return data;
    }

    private static TrainingOptions Overfitting => new()
    {
        Task = ModelTask.BinaryClassification, HiddenLayers = [64, 64], Epochs = 60, BatchSize = 16, LearningRate = 0.02, Seed = 3,
    };

    [Fact]
    public void Fit_WithValidationAndPatience_StopsEarlyAndKeepsTheBestEpoch()
    {
        var validation = Noisy(300, 2);
        var model = Engine.Fit(Noisy(300, 1), validation, Overfitting with { EarlyStoppingPatience = 3 });

        Assert.True(model.LossCurve.Count < 60, $"ran {model.LossCurve.Count} epochs");
        Assert.Equal(model.LossCurve.Count, model.ValidationCurve.Count);
        var best = model.ValidationCurve.Min();
        Assert.Equal(model.ValidationCurve.ToList().IndexOf(best) + 1, model.BestEpoch);
        Assert.Equal(model.LossCurve.Count, model.BestEpoch + 3);
        // The kept weights are the best epoch's: the model scores exactly that on the validation rows.
        Assert.Equal(best, Evaluator.Evaluate(model, validation).Overall.LogLoss!.Value, 4);
        Assert.Equal((300L * model.LossCurve.Count) + (300L * model.LossCurve.Count), model.RunSamples);
    }

    [Fact]
    public void Schedule_Cosine_WarmsUpThenDecaysToTheFloor()
    {
        var options = new TrainingOptions { Task = ModelTask.BinaryClassification, Epochs = 10, LearningRate = 0.01, Schedule = LearningRateSchedule.Cosine, MinLearningRateFraction = 0.1 };
        var schedule = new StepSchedule(options, batchesPerEpoch: 20);
        var rates = Enumerable.Range(0, 200).Select(s => schedule.At(s)).ToArray();

        // Warm-up: 5 % of 200 steps = 10 steps, rising linearly to the peak.
        Assert.Equal(0.001, rates[0], 12);
        Assert.Equal(0.01, rates[9], 12);
        Assert.All(rates.Skip(10).Zip(rates.Skip(11)), p => Assert.True(p.Second <= p.First));
        Assert.Equal(0.001, rates[^1], 12);
        Assert.Equal(0.01, new StepSchedule(options with { Schedule = LearningRateSchedule.Constant }, 20).At(150), 12);
    }

    [Fact]
    public void WeightDecay_ShrinksTheWeights()
    {
        var data = Noisy(600, 4);
        var plain = Engine.Train(data, Overfitting with { Epochs = 10 });
        var decayed = Engine.Train(data, Overfitting with { Epochs = 10, WeightDecay = 0.5 });

        static double Norm(ModelState s) => s.Weights.Sum(w => w.Sum(v => (double)v * v));
        Assert.True(Norm(decayed.State) < 0.5 * Norm(plain.State), $"{Norm(decayed.State)} vs {Norm(plain.State)}");
    }

    [Theory]
    [InlineData(ModelTask.BinaryClassification)]
    [InlineData(ModelTask.MulticlassClassification)]
    public void Calibrate_OverconfidentModel_LowersHeldOutLogLoss_AndOnnxStillMatches(ModelTask task)
    {
        var train = WithLabelNoise(TestData.Mixed(task, 400, seed: 11), 11);
        var validation = WithLabelNoise(TestData.Mixed(task, 300, seed: 12), 12);
        var test = WithLabelNoise(TestData.Mixed(task, 2000, seed: 13), 13);
        var options = new TrainingOptions { Task = task, HiddenLayers = [64], Epochs = 80, BatchSize = 16, LearningRate = 0.02, Seed = 5 };

        // Overfit without validation, then calibrate that model: one epoch at a negligible rate keeps its weights.
        var raw = Engine.Train(train, options);
        var calibrated = Engine.Fit(train, validation, options with { Epochs = 1, LearningRate = 1e-9, Calibrate = true }, raw.State);

        var before = Evaluator.Evaluate(raw, test).Overall;
        var after = Evaluator.Evaluate(calibrated, test).Overall;
        Assert.NotNull(calibrated.Calibration);
        Assert.True(after.LogLoss < before.LogLoss - 0.05, $"log loss {before.LogLoss} -> {after.LogLoss}");
        Assert.True(Math.Abs(before.Accuracy!.Value - after.Accuracy!.Value) < 0.02, $"accuracy {before.Accuracy} -> {after.Accuracy}");
        Assert.Equal(raw.State.LayerSizes, calibrated.State.LayerSizes);

        using var session = OnnxSession.Create(calibrated.ToOnnx());
        var input = OnnxParityTests.RandomInputs(300, seed: 9);
        var expected = calibrated.Predict(input);
        var outputs = OnnxParityTests.Run(session, input, ["label", "probabilities"]);
        var actual = outputs[1].AsFloat();
        Assert.Equal(expected.Values.Length, actual.Length);
        Assert.All(expected.Values.Zip(actual), p => Assert.True(Math.Abs(p.First - p.Second) <= 1e-5, $"engine {p.First}, onnx {p.Second}"));
        Assert.Equal(expected.Labels, outputs[0].AsString());
    }

    [Fact]
    public void Recipe_WarmUpdate_TrainsNewRowsPlusReplay_AndCountsItsCompute()
    {
        var recipe = new ContinualRecipe(Engine, new RecipeOptions { Task = ModelTask.BinaryClassification, HiddenLayers = [8], FullRetrainEvery = 3 });
        var history = TestData.Mixed(ModelTask.BinaryClassification, 1500, seed: 20);
        var first = recipe.Train(TestData.Mixed(ModelTask.BinaryClassification, 500, seed: 21), history, null, 0, seed: 1);
        Assert.Equal((true, "no parent model"), (first.Plan.Full, first.Plan.Reason));
        Assert.Equal(0, first.UpdatesSinceFull);

        var update = recipe.Train(TestData.Mixed(ModelTask.BinaryClassification, 500, seed: 22), history, first.Model.State, first.UpdatesSinceFull, seed: 2, windowRowsAtFull: first.WindowRowsAtFull);
        Assert.False(update.Plan.Full);
        Assert.Equal(100, update.ValidationRows);
        Assert.Equal(200, update.ReplayRows); // half a replay row per new training row
        Assert.Equal(600, update.TrainRows);
        Assert.Equal(1, update.UpdatesSinceFull);
        // Every epoch run over the 600 rows, the parent's and each epoch's validation pass, and the drift check's pass
        // (a warm update is not calibrated by default, so the recipe scores it on the validation rows once more).
        var epochs = update.Model.LossCurve.Count;
        Assert.Null(update.Model.Calibration);
        Assert.Equal((600L * epochs) + (100L * (epochs + 2)), update.TrainedSamples);
        Assert.Equal(update.Model.RunSamples + 100, update.TrainedSamples);
        Assert.Equal(first.Model.State.TrainedSamples + update.Model.RunSamples, update.Model.State.TrainedSamples);

        var next = TestData.Mixed(ModelTask.BinaryClassification, 100, seed: 23);
        var scheduled = recipe.Plan(update.Model.State, 3, next);
        Assert.Equal((true, "scheduled: 3 warm updates since the last full retrain"), (scheduled.Full, scheduled.Reason));
        Assert.False(recipe.Plan(update.Model.State, 1, next, windowRows: 3999, windowRowsAtFull: 2000).Full);
        var grown = recipe.Plan(update.Model.State, 1, next, windowRows: 4000, windowRowsAtFull: 2000);
        Assert.Equal((true, "growth: the window grew from 2000 to 4000 rows since the last full retrain"), (grown.Full, grown.Reason));
        Assert.Equal(2000, first.WindowRowsAtFull);
        Assert.Equal(2000, update.WindowRowsAtFull);
    }

    [Fact]
    public void Recipe_WarmUpdateFarWorseThanThePrior_IsReplacedByAFullRetrain_WithinTheMarginItIsKept()
    {
        // A parent that learned the opposite of what the new rows say: a few epochs of warm update cannot undo it.
        var flipped = TestData.Mixed(ModelTask.BinaryClassification, 1500, seed: 40);
        var labels = flipped.ClassLabels!;
        for (var i = 0; i < labels.Length; i++)
        {
            labels[i] = labels[i] == "yes" ? "no" : "yes";
        }

        var options = new RecipeOptions { Task = ModelTask.BinaryClassification, HiddenLayers = [8], UpdateEpochs = 1, UpdateLearningRate = 1e-4 };
        var parent = new ContinualRecipe(Engine, options).Train(flipped, null, null, 0, seed: 1);
        var fresh = TestData.Mixed(ModelTask.BinaryClassification, 500, seed: 41);

        var replaced = new ContinualRecipe(Engine, options).Train(fresh, null, parent.Model.State, 0, seed: 2);
        Assert.True(replaced.Plan.Full);
        Assert.StartsWith("drift:", replaced.Plan.Reason, StringComparison.Ordinal);
        Assert.Equal(0, replaced.UpdatesSinceFull);

        // The same update is kept when the margin allows for it (and, asked to, calibrated like a full retrain).
        var kept = new ContinualRecipe(Engine, options with { DriftMargin = 100, CalibrateUpdates = true }).Train(fresh, null, parent.Model.State, 0, seed: 2);
        Assert.False(kept.Plan.Full);
        Assert.Equal(1, kept.UpdatesSinceFull);
        Assert.NotNull(kept.Model.Calibration);
        Assert.True(kept.TrainedSamples < replaced.TrainedSamples);
    }

    [Fact]
    public void Recipe_NewClassOrFeature_TrainsAFreshModelAndSaysWhy()
    {
        var recipe = new ContinualRecipe(Engine, new RecipeOptions { Task = ModelTask.MulticlassClassification, HiddenLayers = [8] });
        var parent = recipe.Train(TestData.Mixed(ModelTask.MulticlassClassification, 600, seed: 30), null, null, 0, seed: 1).Model.State;
        var withSnow = TestData.Mixed(ModelTask.MulticlassClassification, 600, seed: 31);
        var labels = withSnow.ClassLabels!;
        for (var i = 0; i < labels.Length; i += 10)
        {
            labels[i] = "snow";
        }

        var result = recipe.Train(withSnow, null, parent, 2, seed: 2);
        Assert.True(result.Plan.Full);
        Assert.Equal("new class 'snow'", result.Plan.Fresh);
        Assert.Contains("snow", result.Model.Classes);

        var fewer = TabularDataset.CreateBuilder().AddNumeric("x1", withSnow.GetNumeric("x1")).AddCategorical("color", withSnow.GetCategorical("color"))
            .WithLabel("target", withSnow.ClassLabels!).Build();
        Assert.Equal("features 'x2', 'size' gone", recipe.Plan(parent, 0, fewer).Fresh);
    }
}
