using Ctm.Ml.Continual;
using Ctm.Testing.Streams;

namespace Ctm.Ml.Tests;

/// <summary>Test-then-train on the generated streams: the recipe against models that are never retrained.</summary>
public sealed class PrequentialTests
{
    internal static List<TabularDataset> CleanBatches(GeneratedStream stream, ModelTask task)
    {
        var features = stream.Batches[0].Header.Where(h => h != stream.LabelColumn)
            .Select(h => new FeatureSpec(h, stream.NumericFeatures.Contains(h) ? FeatureKind.Numeric : FeatureKind.Categorical)).ToList();
        return [.. stream.Batches.Where(b => b.IsClean).Select(b =>
        {
            var header = b.Header.ToList();
            var columns = features.Select(f => header.IndexOf(f.Name)).Append(header.IndexOf(stream.LabelColumn)).ToArray();
            return TabularDataset.FromRows(features, stream.LabelColumn, task, b.Rows.Select(r => columns.Select(c => r[c]).ToArray()));
        })];
    }

    [Fact]
    public void EventsBenchmark_Recipe_BeatsStaticModelsOnAucAndLogLoss()
    {
        var batches = CleanBatches(StreamGenerator.Generate(StreamOptions.EventsBenchmark), ModelTask.BinaryClassification);
        var report = PrequentialRun.Run(batches, new PrequentialOptions
        {
            Recipe = new RecipeOptions { Task = ModelTask.BinaryClassification },
            Oracle = false,
        });

        var recipe = report.Scores[0];
        Assert.Equal("recipe", recipe.Method);
        foreach (var baseline in report.Scores.Skip(1))
        {
            Assert.True(recipe.RocAuc > baseline.RocAuc, $"AUC {recipe.RocAuc} vs {baseline.Method} {baseline.RocAuc}\n{report.ToMarkdown()}");
            Assert.True(recipe.LogLoss < baseline.LogLoss, $"log loss {recipe.LogLoss} vs {baseline.Method} {baseline.LogLoss}\n{report.ToMarkdown()}");
        }

        Assert.Equal(41 * 500, report.ScoredRows);
    }

    [Fact]
    public void WeatherBenchmark_LateClass_IsServedTheBatchAfterItAppears()
    {
        var stream = StreamGenerator.Generate(StreamOptions.WeatherBenchmark);
        var batches = CleanBatches(stream, ModelTask.MulticlassClassification);
        var report = PrequentialRun.Run(batches, new PrequentialOptions
        {
            Recipe = new RecipeOptions { Task = ModelTask.MulticlassClassification },
            Oracle = false,
            LateClass = stream.LateClass,
        });

        var recipe = report.Scores[0];
        Assert.Equal(1, recipe.LateClassServedAfter);
        Assert.Contains(report.Decisions, d => d.Contains($"new class '{stream.LateClass}'", StringComparison.Ordinal));
        Assert.All(report.Scores.Skip(1), s => Assert.True(recipe.Accuracy > s.Accuracy && recipe.LogLoss < s.LogLoss, report.ToMarkdown()));
    }
}
