using Ctm.Ml;
using Ctm.Ml.Engine;
using Ctm.Testing.Streams;

namespace Ctm.Data.Tests.Streams;

/// <summary>
/// The streams must punish not retraining, moderately: a model trained once on the first five batches is
/// compared, test-then-train, with one retrained from scratch on everything before each batch. The numbers are
/// printed (run with <c>--logger "console;verbosity=detailed"</c>) and quoted in docs/streams.md.
/// </summary>
public sealed class StreamLearnabilityTests(ITestOutputHelper output)
{
    private const int StaticBatches = 5;

    [Fact]
    public void Events_RetrainingOnEverything_BeatsAStaticModel_ByAFewAucPoints()
    {
        var stream = StreamGenerator.Generate(StreamOptions.EventsBenchmark with { Corruptions = [] });
        var options = new TrainingOptions { Task = ModelTask.BinaryClassification, Epochs = 10, LearningRate = 0.01, Seed = 1, MaxThreads = 1 };

        var (staticMetrics, oracleMetrics) = Prequential(stream, ModelTask.BinaryClassification, options);
        output.WriteLine($"events: static AUC {staticMetrics.RocAuc:0.0000} log loss {staticMetrics.LogLoss:0.0000}; retrain-everything AUC {oracleMetrics.RocAuc:0.0000} log loss {oracleMetrics.LogLoss:0.0000}");

        Assert.InRange(staticMetrics.RocAuc!.Value, 0.62, 0.85);
        Assert.InRange(oracleMetrics.RocAuc!.Value, 0.65, 0.85);
        Assert.InRange(oracleMetrics.RocAuc.Value - staticMetrics.RocAuc.Value, 0.015, 0.08);
        Assert.True(oracleMetrics.LogLoss < staticMetrics.LogLoss);
    }

    [Fact]
    public void Weather_RetrainingOnEverything_LearnsTheLateClass_WhichAStaticModelCannot()
    {
        var stream = StreamGenerator.Generate(StreamOptions.WeatherBenchmark);
        var options = new TrainingOptions { Task = ModelTask.MulticlassClassification, Epochs = 10, LearningRate = 0.01, Seed = 1, MaxThreads = 1 };

        var (staticMetrics, oracleMetrics) = Prequential(stream, ModelTask.MulticlassClassification, options);
        output.WriteLine($"weather: static accuracy {staticMetrics.Accuracy:0.0000}; retrain-everything accuracy {oracleMetrics.Accuracy:0.0000}");

        Assert.InRange(staticMetrics.Accuracy!.Value, 0.4, 0.8);
        Assert.True(oracleMetrics.Accuracy > staticMetrics.Accuracy + 0.03);
    }

    private static (MetricValues Static, MetricValues Oracle) Prequential(GeneratedStream stream, ModelTask task, TrainingOptions options)
    {
        var features = stream.Batches[0].Header
            .Where(h => h != stream.LabelColumn)
            .Select(h => new FeatureSpec(h, stream.NumericFeatures.Contains(h) ? FeatureKind.Numeric : FeatureKind.Categorical))
            .ToArray();
        var data = stream.Batches.Select(b => TabularDataset.FromRows(features, stream.LabelColumn, task, b.Rows)).ToArray();
        var engine = new ManagedTrainingEngine();
        var staticModel = engine.Train(TabularDataset.Concat(data[..StaticBatches]), options);

        var staticRows = new List<string?[]>();
        var oracleRows = new List<string?[]>();
        var staticProbabilities = new List<float>();
        var oracleProbabilities = new List<float>();
        var classes = stream.Batches.SelectMany(b => b.Column(stream.LabelColumn)).OfType<string>().Distinct().Order(StringComparer.Ordinal).ToArray();
        for (var b = StaticBatches; b < data.Length; b++)
        {
            var oracle = engine.Train(TabularDataset.Concat(data[..b]), options);
            staticProbabilities.AddRange(Aligned(staticModel.Predict(data[b]), classes));
            oracleProbabilities.AddRange(Aligned(oracle.Predict(data[b]), classes));
        }

        var test = TabularDataset.Concat(data[StaticBatches..]);
        return (
            Evaluator.Evaluate(new ModelPredictions(task, classes, classes.Length, staticProbabilities.ToArray(), null), test).Overall,
            Evaluator.Evaluate(new ModelPredictions(task, classes, classes.Length, oracleProbabilities.ToArray(), null), test).Overall);
    }

    // A model that never saw a class gives it probability zero; columns follow the stream's full class list.
    private static float[] Aligned(ModelPredictions predictions, string[] classes)
    {
        var aligned = new float[predictions.Rows * classes.Length];
        for (var j = 0; j < predictions.Classes.Count; j++)
        {
            var column = Array.IndexOf(classes, predictions.Classes[j]);
            for (var r = 0; r < predictions.Rows; r++)
            {
                aligned[(r * classes.Length) + column] = predictions.Values[(r * predictions.Columns) + j];
            }
        }

        return aligned;
    }
}
