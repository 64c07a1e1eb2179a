using System.Diagnostics;
using Ctm.Ml;
using Ctm.Ml.Engine;
using Ctm.Testing.Streams;

namespace Ctm.Bench.Stream;

/// <summary>
/// A plain recipe as a practitioner would write it without tuning: Adam, learning rate 1e-3, 10 epochs, mini-batches
/// of 32 (the common library default), no weight decay, no early stopping, no warm start.
/// </summary>
public sealed record Recipe(string Name, int[] HiddenLayers)
{
    public const int Epochs = 10;
    public const double LearningRate = 1e-3;
    public const int BatchSize = 32;

    public static readonly Recipe[] Plain = [new("logistic", []), new("mlp32", [32])];

    public TrainingOptions Options(ModelTask task) => new()
    {
        Task = task,
        HiddenLayers = HiddenLayers,
        Epochs = Epochs,
        BatchSize = BatchSize,
        LearningRate = LearningRate,
        Seed = 42,
    };
}

/// <summary>A model computed in-process: its predictions per batch and what its training cost.</summary>
public sealed record LocalResult(string Name, List<BatchPrediction> Predictions, long TrainedSamples, TimeSpan TrainingTime);

/// <summary>
/// The two references, trained in-process with the Trainer's own engine on exactly the stream's rows: a static model
/// (trained once on the first clean batches) and a retrain-everything oracle (from scratch on every clean batch
/// before each evaluated batch). Both know which batches are clean — the oracle is an upper bound, not a rival policy.
/// </summary>
public sealed class LocalModels(GeneratedStream stream, ModelTask task)
{
    private readonly ManagedTrainingEngine _engine = new();
    private readonly FeatureSpec[] _features =
    [
        .. stream.NumericFeatures.Select(f => new FeatureSpec(f, FeatureKind.Numeric)),
        .. stream.CategoricalFeatures.Select(f => new FeatureSpec(f, FeatureKind.Categorical)),
    ];
    private readonly Dictionary<int, TabularDataset> _datasets = [];

    /// <summary>Trained once on <paramref name="trainBatches"/>, then predicts every batch in <paramref name="predictBatches"/>.</summary>
    public LocalResult Static(Recipe recipe, IReadOnlyList<int> trainBatches, IReadOnlyList<int> predictBatches)
    {
        var clock = Stopwatch.StartNew();
        var train = TabularDataset.Concat([.. trainBatches.Select(Dataset)]);
        var model = _engine.Train(train, recipe.Options(task));
        var time = clock.Elapsed;
        var predictions = predictBatches.Select(b => Predict(model, b)).ToList();
        return new LocalResult($"static {recipe.Name}", predictions, (long)train.RowCount * Recipe.Epochs, time);
    }

    /// <summary>For each batch in <paramref name="predictBatches"/>: a fresh model on every clean batch before it, then its predictions.</summary>
    public LocalResult Oracle(Recipe recipe, IReadOnlyList<int> cleanBatches, IReadOnlyList<int> predictBatches, Action<int, TimeSpan>? progress = null)
    {
        var predictions = new List<BatchPrediction>();
        long samples = 0;
        var total = TimeSpan.Zero;
        foreach (var b in predictBatches)
        {
            var clock = Stopwatch.StartNew();
            var train = TabularDataset.Concat([.. cleanBatches.Where(c => c < b).Select(Dataset)]);
            var model = _engine.Train(train, recipe.Options(task));
            samples += (long)train.RowCount * Recipe.Epochs;
            total += clock.Elapsed;
            predictions.Add(Predict(model, b));
            progress?.Invoke(b, clock.Elapsed);
        }

        return new LocalResult($"oracle {recipe.Name}", predictions, samples, total);
    }

    private BatchPrediction Predict(TrainedModel model, int batch)
    {
        var output = model.Predict(Dataset(batch));
        var rows = new IReadOnlyDictionary<string, double>?[output.Rows];
        for (var r = 0; r < rows.Length; r++)
        {
            var probabilities = new Dictionary<string, double>(output.Columns, StringComparer.Ordinal);
            for (var c = 0; c < output.Columns; c++)
            {
                probabilities[output.Classes[c]] = output.Values[(r * output.Columns) + c];
            }

            rows[r] = probabilities;
        }

        return new BatchPrediction(batch, rows);
    }

    private TabularDataset Dataset(int batch)
    {
        if (_datasets.TryGetValue(batch, out var cached))
        {
            return cached;
        }

        var source = stream.Batches[batch];
        var columns = _features.Select(f => Column(source, f.Name)).Append(Column(source, stream.LabelColumn)).ToArray();
        var rows = source.Rows.Select(row => columns.Select(c => row[c]).ToArray());
        return _datasets[batch] = TabularDataset.FromRows(_features, stream.LabelColumn, task, rows);
    }

    internal static int Column(StreamBatch batch, string name)
    {
        var index = batch.Header.ToList().IndexOf(name);
        return index >= 0 ? index : throw new InvalidOperationException($"batch {batch.Index} has no column '{name}' (header: {string.Join(", ", batch.Header)})");
    }
}
