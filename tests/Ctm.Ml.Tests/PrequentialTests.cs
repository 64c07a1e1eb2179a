using Ctm.Ml.Continual;
using Ctm.Testing.Streams;

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

    [Theory]
    [InlineData(42)]
    [InlineData(43)]
    [InlineData(44)]
    public void EventsBenchmark_Recipe_BeatsStaticModels_AndMatchesTheBetterOracleAtFivePercentOfItsCompute(int seed)
    {
        var batches = CleanBatches(StreamGenerator.Generate(StreamOptions.EventsBenchmark), ModelTask.BinaryClassification);
        var report = PrequentialRun.Run(batches, new PrequentialOptions
        {
            Recipe = new RecipeOptions { Task = ModelTask.BinaryClassification },
            Seed = seed,
        });
        output.WriteLine(report.ToMarkdown());

        var recipe = report.Scores[0];
        Assert.Equal("recipe", recipe.Method);
        Assert.Equal(41 * 500, report.ScoredRows);

        // The references are the stream benchmark's: logistic and a 32-unit MLP, Adam 1e-3, mini-batches of 32, 10 epochs.
        Assert.Equal(["static logistic", "static MLP [32]"], report.Static.Select(s => s.Method));
        Assert.Equal(["oracle logistic", "oracle MLP [32]"], report.Oracles.Select(s => s.Method));
        foreach (var baseline in report.Static)
        {
            Assert.True(recipe.RocAuc > baseline.RocAuc, $"AUC {recipe.RocAuc} vs {baseline.Method} {baseline.RocAuc}\n{report.ToMarkdown()}");
            Assert.True(recipe.LogLoss < baseline.LogLoss, $"log loss {recipe.LogLoss} vs {baseline.Method} {baseline.LogLoss}\n{report.ToMarkdown()}");
        }

        // The goals: within 0.005 AUC of the better of the two retrain-everything oracles, at most 5 % of its compute.
        var oracle = report.BestOracle!;
        Assert.True(recipe.RocAuc >= oracle.RocAuc - 0.005, $"AUC {recipe.RocAuc} vs {oracle.Method} {oracle.RocAuc}\n{report.ToMarkdown()}");
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
        Assert.All(report.Static, s => Assert.True(recipe.Accuracy > s.Accuracy && recipe.LogLoss < s.LogLoss, report.ToMarkdown()));

        // Not yet the oracle's accuracy (0.707 against 0.696 when measured), but within 0.015 of the better one.
        var oracle = report.BestOracle!;
        Assert.True(recipe.Accuracy >= oracle.Accuracy - 0.015, $"accuracy {recipe.Accuracy} vs {oracle.Method} {oracle.Accuracy}\n{report.ToMarkdown()}");
    }
}
