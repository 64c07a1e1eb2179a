namespace Ctm.Ml;

/// <summary>How to train a model. Same options, seed and data give bit-identical weights, whatever <see cref="MaxThreads"/> is.</summary>
public sealed record TrainingOptions
{
    /// <summary>What the model predicts.</summary>
    public required ModelTask Task { get; init; }

    /// <summary>Hidden layer widths (ReLU); empty means a linear or logistic model.</summary>
    public IReadOnlyList<int> HiddenLayers { get; init; } = [];

    /// <summary>Passes over the training data.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Rows per optimizer step.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>Adam learning rate.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>L2 penalty on weights (not biases), added to the gradient; an embedding row gets it only in steps whose batch holds its category.</summary>
    public double L2 { get; init; }

    /// <summary>
    /// Decoupled weight decay (AdamW): each step shrinks weights (not biases) by <c>learning rate × WeightDecay</c>,
    /// independently of the gradient's scale, so it regularizes a warm-started chain evenly.
    /// </summary>
    public double WeightDecay { get; init; }

    /// <summary>How the learning rate moves over the run.</summary>
    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Constant;

    /// <summary>With <see cref="LearningRateSchedule.Cosine"/>: the last step's rate as a fraction of <see cref="LearningRate"/>.</summary>
    public double MinLearningRateFraction { get; init; } = 0.1;

    /// <summary>
    /// With validation rows: stop after this many epochs without a lower validation loss and keep the best epoch's
    /// weights; 0 trains every epoch (the best epoch's weights are still kept).
    /// </summary>
    public int EarlyStoppingPatience { get; init; }

    /// <summary>
    /// With validation rows and a classification task: fit a temperature on the validation rows (minimum log loss)
    /// and fold it into the last layer's weights and bias, so the exported graph is unchanged in shape.
    /// </summary>
    public bool Calibrate { get; init; }

    /// <summary>Seeds initialization and shuffling.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Worker threads; 0 means all cores. Results do not depend on it.</summary>
    public int MaxThreads { get; init; }

    /// <summary>
    /// A category seen fewer times than this in the training data is left out of the vocabulary and shares the
    /// out-of-vocabulary bucket with unseen and missing values, so that bucket learns what "rare" means.
    /// </summary>
    public int MinCategoryCount { get; init; } = 1;

    /// <summary>Largest vocabulary per categorical feature (most frequent categories first).</summary>
    public int MaxCategories { get; init; } = 10_000;

    /// <summary>Checks the options, naming the first wrong one.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentException($"Epochs must be at least 1 (was {Epochs}).");
        if (BatchSize < 1) throw new ArgumentException($"BatchSize must be at least 1 (was {BatchSize}).");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) throw new ArgumentException($"LearningRate must be positive (was {LearningRate}).");
        if (!(L2 >= 0) || double.IsInfinity(L2)) throw new ArgumentException($"L2 must be non-negative (was {L2}).");
        if (!(WeightDecay >= 0) || WeightDecay >= 1 / LearningRate) throw new ArgumentException($"WeightDecay must be non-negative and below 1 / LearningRate (was {WeightDecay}).");
        if (!(MinLearningRateFraction is > 0 and <= 1)) throw new ArgumentException($"MinLearningRateFraction must be in (0, 1] (was {MinLearningRateFraction}).");
        if (EarlyStoppingPatience < 0) throw new ArgumentException($"EarlyStoppingPatience must be 0 (off) or positive (was {EarlyStoppingPatience}).");
        if (MaxThreads < 0) throw new ArgumentException($"MaxThreads must be 0 (all cores) or positive (was {MaxThreads}).");
        if (MinCategoryCount < 1) throw new ArgumentException($"MinCategoryCount must be at least 1 (was {MinCategoryCount}).");
        if (MaxCategories < 1) throw new ArgumentException($"MaxCategories must be at least 1 (was {MaxCategories}).");
        if (HiddenLayers is null || HiddenLayers.Any(h => h < 1)) throw new ArgumentException("HiddenLayers widths must be at least 1.");
    }
}

/// <summary>How the learning rate moves over a run.</summary>
public enum LearningRateSchedule
{
    /// <summary>The same rate every step.</summary>
    Constant,

    /// <summary>
    /// A short linear warm-up (the first 5 % of steps, at most one epoch), then half a cosine from
    /// <see cref="TrainingOptions.LearningRate"/> down to <see cref="TrainingOptions.MinLearningRateFraction"/> of it
    /// at the last planned step.
    /// </summary>
    Cosine,
}

/// <summary>A training run's progress, reported at most a few times a second and at the end of every epoch.</summary>
/// <param name="Epoch">The current epoch, from 1.</param>
/// <param name="Epochs">Epochs in the run.</param>
/// <param name="Batch">Batches done in this epoch.</param>
/// <param name="BatchesPerEpoch">Batches in an epoch.</param>
/// <param name="Loss">Mean training loss of this epoch so far.</param>
/// <param name="SamplesPerSecond">Training throughput since the run started.</param>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="EstimatedRemaining">Projected time to the end of the run.</param>
public sealed record TrainingProgress(
    int Epoch, int Epochs, int Batch, int BatchesPerEpoch, double Loss, double SamplesPerSecond,
    TimeSpan Elapsed, TimeSpan EstimatedRemaining)
{
    /// <summary>Fraction of the run done, 0 to 1.</summary>
    public double Fraction => Epochs == 0 ? 1 : ((Epoch - 1) + (BatchesPerEpoch == 0 ? 1 : (double)Batch / BatchesPerEpoch)) / Epochs;
}

/// <summary>What a short warm-up run measured, and the projection of the full run from it.</summary>
/// <param name="SamplesPerSecond">Training rows per second in the warm-up.</param>
/// <param name="CpuUtilization">Process CPU time / wall time / cores, 0 to 1.</param>
/// <param name="PeakMemoryBytes">Peak working set of the process.</param>
/// <param name="ProjectedDuration">Projected wall time of the full run (preparation plus all epochs).</param>
/// <param name="WarmupDuration">How long the warm-up ran.</param>
/// <param name="WarmupSamples">Rows trained in the warm-up.</param>
/// <param name="ParameterCount">Trainable parameters of the model.</param>
public sealed record TrainingEstimate(
    double SamplesPerSecond, double CpuUtilization, long PeakMemoryBytes, TimeSpan ProjectedDuration,
    TimeSpan WarmupDuration, long WarmupSamples, long ParameterCount);

/// <summary>
/// A training engine: fits a model on a dataset, optionally warm-started from a parent version's state.
/// Engines are interchangeable: they all read <see cref="TabularDataset"/> and produce a <see cref="ModelState"/>.
/// </summary>
public interface ITrainingEngine
{
    /// <summary>The engine's name, recorded with the model.</summary>
    string Name { get; }

    /// <summary>Trains a model.</summary>
    /// <param name="train">Training rows with labels.</param>
    /// <param name="options">Architecture and optimizer settings. With a warm start, the architecture and task come from the parent.</param>
    /// <param name="warmStart">The parent version's state, or null to start fresh.</param>
    /// <param name="progress">Receives progress, at least once a second while batches run.</param>
    /// <param name="cancellationToken">Stops training between batches.</param>
    /// <exception cref="ArgumentException">The dataset or options are unusable; the message says why.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    TrainedModel Train(
        TabularDataset train, TrainingOptions options, ModelState? warmStart = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Trains a model, watching its loss on <paramref name="validation"/> rows (never trained on) after every epoch:
    /// the best epoch's weights are kept, training stops early after
    /// <see cref="TrainingOptions.EarlyStoppingPatience"/> epochs without improvement, and with
    /// <see cref="TrainingOptions.Calibrate"/> a temperature fitted on those rows is folded into the last layer.
    /// Without validation rows it is <see cref="Train"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The data or options are unusable; the message says why.</exception>
    TrainedModel Fit(
        TabularDataset train, TabularDataset? validation, TrainingOptions options, ModelState? warmStart = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Prepares the data (at most 100,000 evenly spaced rows of it), runs a short warm-up (150 ms untimed, then
    /// <paramref name="warmup"/> timed, 400 ms by default) and projects the full run from it. The warm-up's weights
    /// are thrown away.
    /// </summary>
    TrainingEstimate Estimate(
        TabularDataset train, TrainingOptions options, ModelState? warmStart = null,
        TimeSpan? warmup = null, CancellationToken cancellationToken = default);
}
