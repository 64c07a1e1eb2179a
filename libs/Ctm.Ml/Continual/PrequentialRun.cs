using System.Globalization;
using System.Text;

namespace Ctm.Ml.Continual;

/// <summary>What a <see cref="PrequentialRun"/> compares, and how.</summary>
public sealed record PrequentialOptions
{
    /// <summary>The recipe under test.</summary>
    public required RecipeOptions Recipe { get; init; }

    /// <summary>The static models train once on this many first batches; every method is scored from the batch after them.</summary>
    public int StaticBatches { get; init; } = 5;

    /// <summary>Architectures of the static baselines (empty = logistic).</summary>
    public IReadOnlyList<IReadOnlyList<int>> StaticArchitectures { get; init; } = [[], [32]];

    /// <summary>
    /// The plain recipe of the static models and the oracles, as the stream benchmark of record writes it: Adam at a
    /// constant rate for this many epochs, no weight decay, no early stopping.
    /// </summary>
    public int PlainEpochs { get; init; } = 10;

    /// <summary>The plain recipe's learning rate (the common library default).</summary>
    public double PlainLearningRate { get; init; } = 1e-3;

    /// <summary>The plain recipe's rows per step (the common library default).</summary>
    public int PlainBatchSize { get; init; } = 32;

    /// <summary>
    /// Also run the oracles: before each batch, retrain from scratch on every batch before it with the plain recipe,
    /// once per architecture of <see cref="OracleArchitectures"/> (the most it can cost).
    /// </summary>
    public bool Oracle { get; init; } = true;

    /// <summary>Architectures of the oracles (empty = logistic); a recipe is judged against the better one.</summary>
    public IReadOnlyList<IReadOnlyList<int>> OracleArchitectures { get; init; } = [[], [32]];

    /// <summary>The class that appears mid-stream, to report when each method first serves it; null for none.</summary>
    public string? LateClass { get; init; }

    /// <summary>Seeds every method.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Worker threads; results do not depend on it.</summary>
    public int MaxThreads { get; init; }
}

/// <summary>One method's prequential score.</summary>
/// <param name="Method">Its name.</param>
/// <param name="RocAuc">Binary: ROC AUC over every scored row together; else null.</param>
/// <param name="Accuracy">Share of scored rows predicted right.</param>
/// <param name="LogLoss">Mean log loss over every scored row (a class the model lacks counts as p = 1e-15).</param>
/// <param name="TrainedSamples">Compute: rows processed in training, validation and calibration, over the whole stream.</param>
/// <param name="FullRetrains">Runs that started from scratch.</param>
/// <param name="LateClassServedAfter">Batches from the late class's first appearance until a model that predicts it scores a batch (1 = the next batch); null when never, or no late class.</param>
/// <param name="PerBatch">Per scored batch: its index, log loss, and ROC AUC (binary) or accuracy.</param>
public sealed record PrequentialScore(
    string Method, double? RocAuc, double Accuracy, double LogLoss, long TrainedSamples, int FullRetrains, int? LateClassServedAfter,
    IReadOnlyList<(int Batch, double LogLoss, double? Metric)> PerBatch);

/// <summary>The comparison: every method scored on the same batches.</summary>
/// <param name="Task">The stream's task.</param>
/// <param name="FirstScoredBatch">The first batch scored.</param>
/// <param name="ScoredRows">Rows scored per method.</param>
/// <param name="Scores">Recipe first, then the static models, then the oracles (methods named "oracle …").</param>
/// <param name="Decisions">The recipe's full-or-warm decision per batch it trained on.</param>
public sealed record PrequentialReport(ModelTask Task, int FirstScoredBatch, int ScoredRows, IReadOnlyList<PrequentialScore> Scores, IReadOnlyList<string> Decisions)
{
    /// <summary>The static models' scores.</summary>
    public IEnumerable<PrequentialScore> Static => Scores.Where(s => s.Method.StartsWith("static", StringComparison.Ordinal));

    /// <summary>The oracles' scores.</summary>
    public IEnumerable<PrequentialScore> Oracles => Scores.Where(s => s.Method.StartsWith("oracle", StringComparison.Ordinal));

    /// <summary>The better oracle (higher ROC AUC for a binary task, else higher accuracy), or null without one.</summary>
    public PrequentialScore? BestOracle => Oracles.OrderByDescending(s => Task == ModelTask.BinaryClassification ? s.RocAuc ?? 0 : s.Accuracy).FirstOrDefault();

    /// <summary>The scores as a Markdown table, compute relative to the better oracle's where there is one.</summary>
    public string ToMarkdown()
    {
        var oracle = BestOracle;
        var text = new StringBuilder();
        var metric = Task == ModelTask.BinaryClassification ? "ROC AUC" : "accuracy";
        text.Append(CultureInfo.InvariantCulture, $"| method | {metric} | log loss | trained rows | vs oracle | full retrains | late class served after |\n");
        text.Append("| --- | --- | --- | --- | --- | --- | --- |\n");
        foreach (var s in Scores)
        {
            var value = Task == ModelTask.BinaryClassification ? s.RocAuc : s.Accuracy;
            var ratio = oracle is null || oracle.TrainedSamples == 0 ? "" : ((double)s.TrainedSamples / oracle.TrainedSamples).ToString("P1", CultureInfo.InvariantCulture);
            var late = s.LateClassServedAfter is { } b ? $"{b} batch{(b == 1 ? "" : "es")}" : "-";
            text.Append(CultureInfo.InvariantCulture, $"| {s.Method} | {value:0.0000} | {s.LogLoss:0.0000} | {s.TrainedSamples:N0} | {ratio} | {s.FullRetrains} | {late} |\n");
        }

        return text.ToString();
    }
}

/// <summary>
/// Test-then-train over a time-ordered stream of batches, in process: each batch is first predicted by the model each
/// method trained before it, then handed to the method. Compares the <see cref="ContinualRecipe"/> with static models
/// (trained once on the first batches) and an oracle (a fresh model on everything before each batch).
/// </summary>
public static class PrequentialRun
{
    /// <summary>Runs every method over <paramref name="batches"/> (each with the label; oldest first).</summary>
    /// <exception cref="ArgumentException">Too few batches, or a batch without labels.</exception>
    public static PrequentialReport Run(IReadOnlyList<TabularDataset> batches, PrequentialOptions options)
    {
        ArgumentNullException.ThrowIfNull(batches);
        ArgumentNullException.ThrowIfNull(options);
        if (batches.Count <= options.StaticBatches || options.StaticBatches < 1)
        {
            throw new ArgumentException($"A prequential run needs more than StaticBatches ({options.StaticBatches}) batches; got {batches.Count}.", nameof(batches));
        }

        var engine = new Engine.ManagedTrainingEngine();
        var task = options.Recipe.Task;
        var scores = new List<PrequentialScore>();
        var decisions = new List<string>();

        // The recipe.
        var recipe = new ContinualRecipe(engine, options.Recipe);
        ModelState? current = null;
        var updates = 0;
        long rowsAtFull = 0;
        long recipeCompute = 0;
        var recipeFull = 0;
        var recipeModels = new TrainedModel?[batches.Count];
        for (var k = 0; k < batches.Count; k++)
        {
            recipeModels[k] = current is null ? null : TrainedModel.FromState(current);
            if (k == batches.Count - 1)
            {
                break;
            }

            var history = k == 0 ? null : TabularDataset.Concat([.. batches.Take(k)]);
            var result = recipe.Train(batches[k], history, current, updates, options.Seed + k, windowRowsAtFull: rowsAtFull);
            current = result.Model.State;
            updates = result.UpdatesSinceFull;
            rowsAtFull = result.WindowRowsAtFull;
            recipeCompute += result.TrainedSamples;
            recipeFull += result.Plan.Full ? 1 : 0;
            decisions.Add(string.Create(CultureInfo.InvariantCulture, $"batch {k}: {(result.Plan.Full ? "full" : "warm")} ({result.Plan.Reason}), best epoch {result.Model.BestEpoch} of {result.Model.LossCurve.Count}, {result.TrainedSamples} rows"));
        }

        scores.Add(Score("recipe", recipeModels, batches, options, recipeCompute, recipeFull));

        // Static models: once, on the first batches.
        foreach (var hidden in options.StaticArchitectures)
        {
            var model = engine.Train(TabularDataset.Concat([.. batches.Take(options.StaticBatches)]), Plain(options, hidden, options.Seed));
            var models = Enumerable.Range(0, batches.Count).Select(k => k >= options.StaticBatches ? model : null).ToArray();
            var name = hidden.Count == 0 ? "static logistic" : $"static MLP [{string.Join(",", hidden)}]";
            scores.Add(Score(name, models, batches, options, Rows(batches, options.StaticBatches) * options.PlainEpochs, 1));
        }

        foreach (var hidden in options.Oracle ? options.OracleArchitectures : [])
        {
            var models = new TrainedModel?[batches.Count];
            long compute = 0;
            for (var k = 1; k < batches.Count; k++)
            {
                var data = TabularDataset.Concat([.. batches.Take(k)]);
                models[k] = engine.Train(data, Plain(options, hidden, options.Seed + k));
                compute += (long)data.RowCount * options.PlainEpochs;
            }

            var name = hidden.Count == 0 ? "oracle logistic" : $"oracle MLP [{string.Join(",", hidden)}]";
            scores.Add(Score(name, models, batches, options, compute, batches.Count - 1));
        }

        return new PrequentialReport(task, options.StaticBatches, Enumerable.Range(options.StaticBatches, batches.Count - options.StaticBatches).Sum(k => batches[k].RowCount), scores, decisions);
    }

    private static long Rows(IReadOnlyList<TabularDataset> batches, int count) => batches.Take(count).Sum(b => (long)b.RowCount);

    private static TrainingOptions Plain(PrequentialOptions options, IReadOnlyList<int> hidden, int seed) => new()
    {
        Task = options.Recipe.Task,
        HiddenLayers = hidden,
        Epochs = options.PlainEpochs,
        BatchSize = options.PlainBatchSize,
        LearningRate = options.PlainLearningRate,
        Seed = seed,
        MaxThreads = options.MaxThreads,
    };

    private static PrequentialScore Score(string method, TrainedModel?[] models, IReadOnlyList<TabularDataset> batches, PrequentialOptions options, long compute, int fullRetrains)
    {
        var task = options.Recipe.Task;
        double logLossSum = 0, correct = 0;
        var rows = 0;
        var perBatch = new List<(int, double, double?)>();
        var scored = new List<(float Score, bool Positive)>();
        int? lateFirst = null, lateServed = null;
        for (var k = 0; k < batches.Count; k++)
        {
            var batch = batches[k];
            if (options.LateClass is { } late && lateFirst is null && batch.ClassLabels!.Contains(late))
            {
                lateFirst = k;
            }

            if (lateFirst is not null && lateServed is null && k > lateFirst && models[k] is { } m && m.Classes.Contains(options.LateClass!))
            {
                lateServed = k - lateFirst;
            }

            if (k < options.StaticBatches)
            {
                continue;
            }

            var model = models[k] ?? throw new InvalidOperationException($"{method} has no model for batch {k}.");
            var predictions = model.Predict(batch, options.MaxThreads);
            var metrics = Evaluator.Evaluate(predictions, batch, topValuesPerFeature: 0).Overall;
            logLossSum += metrics.LogLoss!.Value * batch.RowCount;
            correct += metrics.Accuracy!.Value * batch.RowCount;
            rows += batch.RowCount;
            perBatch.Add((k, metrics.LogLoss.Value, task == ModelTask.BinaryClassification ? metrics.RocAuc : metrics.Accuracy));
            if (task == ModelTask.BinaryClassification)
            {
                var positive = model.Classes[1];
                for (var r = 0; r < batch.RowCount; r++)
                {
                    scored.Add((predictions.Values[(2 * r) + 1], batch.ClassLabels![r] == positive));
                }
            }
        }

        return new PrequentialScore(
            method, task == ModelTask.BinaryClassification ? Evaluator.RocAuc(scored) : null, correct / rows, logLossSum / rows, compute, fullRetrains,
            lateServed, perBatch);
    }
}
