using Ctm.Ml.Engine;

namespace Ctm.Ml.Tests;

/// <summary>Small mixed datasets with missing values, deterministic for a seed.</summary>
internal static class TestData
{
    public static readonly string[] Colors = ["red", "green", "blue", "black", "white"];
    public static readonly string[] Sizes = ["S", "M", "L"];

    public static TabularDataset Mixed(ModelTask task, int rows, int seed, string[]? colors = null, bool withLabel = true, bool weights = false)
    {
        colors ??= Colors;
        var rng = new Rng((ulong)seed);
        var x1 = new double[rows];
        var x2 = new double[rows];
        var color = new string?[rows];
        var size = new string?[rows];
        var numericLabels = new double[rows];
        var classLabels = new string[rows];
        var w = new double[rows];
        for (var r = 0; r < rows; r++)
        {
            x1[r] = (rng.NextGaussian() * 2) + 1;
            x2[r] = rng.NextDouble() < 0.1 ? double.NaN : (rng.NextGaussian() * 10) - 3;
            color[r] = rng.NextDouble() < 0.05 ? null : colors[rng.NextInt(colors.Length)];
            size[r] = Sizes[rng.NextInt(Sizes.Length)];
            var colorEffect = color[r] is null ? 0 : (Array.IndexOf(colors, color[r]) % 3) - 1;
            var score = (0.8 * (x1[r] - 1)) - (0.05 * (double.IsNaN(x2[r]) ? -3 : x2[r] + 3)) + colorEffect + (size[r] == "L" ? 0.7 : 0) + (0.3 * rng.NextGaussian());
            numericLabels[r] = (3 * score) + 10;
            classLabels[r] = task == ModelTask.MulticlassClassification
                ? (score < -0.5 ? "low" : score < 0.5 ? "mid" : "high")
                : (score > 0 ? "yes" : "no");
            w[r] = 0.5 + rng.NextDouble();
        }

        var builder = TabularDataset.CreateBuilder()
            .AddNumeric("x1", x1).AddCategorical("color", color).AddNumeric("x2", x2).AddCategorical("size", size);
        if (withLabel)
        {
            if (task == ModelTask.Regression)
            {
                builder.WithLabel("target", numericLabels);
            }
            else
            {
                builder.WithLabel("target", classLabels);
            }
        }

        if (weights)
        {
            builder.WithWeights(w);
        }

        return builder.Build();
    }

    public static TrainingOptions Options(ModelTask task, params int[] hidden) => new()
    {
        Task = task, HiddenLayers = hidden, Epochs = 5, BatchSize = 64, LearningRate = 1e-2, Seed = 7,
    };
}

/// <summary>Collects progress synchronously (Progress&lt;T&gt; would post to the thread pool).</summary>
internal sealed class ListProgress : IProgress<TrainingProgress>
{
    public List<TrainingProgress> Reports { get; } = [];

    public void Report(TrainingProgress value) => Reports.Add(value);
}
