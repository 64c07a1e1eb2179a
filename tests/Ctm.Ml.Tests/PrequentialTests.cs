using Ctm.Ml.Continual;
using Ctm.Testing.Streams;
using Xunit.Abstractions;

namespace Ctm.Ml.Tests;

/// <summary>Test-then-train on the generated streams: the recipe against models that are never retrained.</summary>
public sealed class PrequentialTests(ITestOutputHelper output)
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
    public void EventsBenchmark_Recipe_BeatsStaticModels_AndMatchesTheOracleAtFivePercentOfItsCompute()
    {
        var batches = CleanBatches(StreamGenerator.Generate(StreamOptions.EventsBenchmark), ModelTask.BinaryClassification);
        var report = PrequentialRun.Run(batches, new PrequentialOptions
        {
            Recipe = new RecipeOptions { Task = ModelTask.BinaryClassification },
        });
        output.WriteLine(report.ToMarkdown());

        var recipe = report.Scores[0];
        Assert.Equal("recipe", recipe.Method);
        foreach (var baseline in report.Scores.Skip(1).Where(s => s.Method != "oracle"))
        {
            Assert.True(recipe.RocAuc > baseline.RocAuc, $"AUC {recipe.RocAuc} vs {baseline.Method} {baseline.RocAuc}\n{report.ToMarkdown()}");
            Assert.True(recipe.LogLoss < baseline.LogLoss, $"log loss {recipe.LogLoss} vs {baseline.Method} {baseline.LogLoss}\n{report.ToMarkdown()}");
        }

        Assert.Equal(41 * 500, report.ScoredRows);

        // The goals: within 0.005 AUC of retraining everything before every batch, at most 5 % of its compute.
        var oracle = Assert.Single(report.Scores, s => s.Method == "oracle");
        Assert.True(recipe.RocAuc >= oracle.RocAuc - 0.005, report.ToMarkdown());
        Assert.True(recipe.TrainedSamples <= 0.05 * oracle.TrainedSamples, report.ToMarkdown());
    }

    [Fact]
    public void WeatherBenchmark_LateClass_IsServedTheBatchAfterItAppears()
    {
        var stream = StreamGenerator.Generate(StreamOptions.WeatherBenchmark);
        var batches = CleanBatches(stream, ModelTask.MulticlassClassification);
        var report = PrequentialRun.Run(batches, new PrequentialOptions
        {
            Recipe = new RecipeOptions { Task = ModelTask.MulticlassClassification },
            LateClass = stream.LateClass,
        });
        output.WriteLine(report.ToMarkdown());

        var recipe = report.Scores[0];
        Assert.Equal(1, recipe.LateClassServedAfter);
        Assert.Contains(report.Decisions, d => d.Contains($"new class '{stream.LateClass}'", StringComparison.Ordinal));
        Assert.All(report.Scores.Skip(1).Where(s => s.Method != "oracle"), s => Assert.True(recipe.Accuracy > s.Accuracy && recipe.LogLoss < s.LogLoss, report.ToMarkdown()));
    }
}
