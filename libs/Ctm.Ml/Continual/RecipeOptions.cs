namespace Ctm.Ml.Continual;

/// <summary>
/// The continual-training recipe's settings. The defaults were chosen by prequential measurement on the generated
/// Events and Weather streams (see <see cref="PrequentialRun"/>); the Trainer service binds its <c>Training</c>
/// section onto the same names.
/// </summary>
public sealed record RecipeOptions
{
    /// <summary>What the model predicts.</summary>
    public required ModelTask Task { get; init; }

    /// <summary>Hidden layer widths of a fresh model (a warm update keeps the parent's).</summary>
    public IReadOnlyList<int> HiddenLayers { get; init; } = [32];

    /// <summary>Rows per optimizer step.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Most epochs of a full retrain (early stopping usually ends it sooner).</summary>
    public int FullEpochs { get; init; } = 6;

    /// <summary>Peak learning rate of a full retrain (cosine schedule).</summary>
    public double FullLearningRate { get; init; } = 0.005;

    /// <summary>Most epochs of a warm update over the new rows and the replay sample.</summary>
    public int UpdateEpochs { get; init; } = 5;

    /// <summary>Peak learning rate of a warm update: lower than a full retrain's, so an update adjusts rather than relearns.</summary>
    public double UpdateLearningRate { get; init; } = 0.002;

    /// <summary>Decoupled weight decay (AdamW) in both kinds of run.</summary>
    public double WeightDecay { get; init; } = 0.01;

    /// <summary>Epochs without a better validation loss before a run stops (full retrain; a warm update uses 1).</summary>
    public int Patience { get; init; } = 2;

    /// <summary>Share of the new rows held out of training for early stopping and calibration.</summary>
    public double ValidationFraction { get; init; } = 0.2;

    /// <summary>
    /// A full retrain also validates on this share of the older rows it would train on (an epoch picked on a hundred
    /// rows is mostly noise); 0 validates on new rows only.
    /// </summary>
    public double FullValidationFraction { get; init; } = 0.1;

    /// <summary>Fewest validation rows; below twice this many new rows there is no validation (no early stopping, no calibration).</summary>
    public int MinValidationRows { get; init; } = 30;

    /// <summary>Replay rows per new training row in a warm update, drawn uniformly from the older rows of the window.</summary>
    public double ReplayRatio { get; init; } = 0.5;

    /// <summary>After this many warm updates in a row, the next run is a full retrain (warm-started chains drift from a fresh fit).</summary>
    public int FullRetrainEvery { get; init; } = 16;

    /// <summary>
    /// A window that doubled since the chain's last full retrain is refitted from scratch once it holds at least this
    /// many rows (smaller windows keep warm-updating: a refit on a few hundred rows gains little); 0 turns the rule off.
    /// </summary>
    public int GrowthMinRows { get; init; } = 2_000;

    /// <summary>
    /// A warm update whose log loss on the held-out new rows exceeds the class prior's by more than this margin (nats)
    /// is replaced by a full retrain; a hundred rows are noisy, so a margin keeps chance from buying a costly refit.
    /// </summary>
    public double DriftMargin { get; init; } = 0.05;

    /// <summary>A full retrain trains on at most this many of the newest rows (0: all), so its cost does not grow with the stream.</summary>
    public int MaxFullRows { get; init; } = 16_000;

    /// <summary>Fit a calibration map on a full retrain's validation rows and fold it into the last layer (classification).</summary>
    public bool Calibrate { get; init; } = true;

    /// <summary>
    /// Also calibrate warm updates. Off by default: a warm update's validation rows are a hundred new rows, and a map
    /// fitted on them (and folded into the weights, update after update) fits their noise.
    /// </summary>
    public bool CalibrateUpdates { get; init; }

    /// <summary>A category seen fewer times than this in a fresh model's data shares the out-of-vocabulary row.</summary>
    public int MinCategoryCount { get; init; } = 1;

    /// <summary>Worker threads; 0 = all cores. Results do not depend on it.</summary>
    public int MaxThreads { get; init; }

    /// <summary>Checks the settings, naming the first wrong one.</summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public void Validate()
    {
        if (HiddenLayers is null || HiddenLayers.Any(h => h < 1)) throw new ArgumentException("HiddenLayers widths must be at least 1.");
        if (FullEpochs < 1) throw new ArgumentException($"FullEpochs must be at least 1 (was {FullEpochs}).");
        if (UpdateEpochs < 1) throw new ArgumentException($"UpdateEpochs must be at least 1 (was {UpdateEpochs}).");
        if (!(FullLearningRate > 0) || !(UpdateLearningRate > 0)) throw new ArgumentException("Learning rates must be positive.");
        if (!(ValidationFraction is >= 0 and < 0.9)) throw new ArgumentException($"ValidationFraction must be in [0, 0.9) (was {ValidationFraction}).");
        if (!(FullValidationFraction is >= 0 and < 0.9)) throw new ArgumentException($"FullValidationFraction must be in [0, 0.9) (was {FullValidationFraction}).");
        if (!(ReplayRatio >= 0) || double.IsInfinity(ReplayRatio)) throw new ArgumentException($"ReplayRatio must be non-negative (was {ReplayRatio}).");
        if (FullRetrainEvery < 1) throw new ArgumentException($"FullRetrainEvery must be at least 1 (was {FullRetrainEvery}).");
        if (GrowthMinRows < 0) throw new ArgumentException($"GrowthMinRows must be 0 (off) or positive (was {GrowthMinRows}).");
        if (MaxFullRows < 0) throw new ArgumentException($"MaxFullRows must be 0 (all) or positive (was {MaxFullRows}).");
        if (!(DriftMargin >= 0)) throw new ArgumentException($"DriftMargin must be non-negative (was {DriftMargin}).");
        if (Patience < 0) throw new ArgumentException($"Patience must be non-negative (was {Patience}).");
        if (MinValidationRows < 1) throw new ArgumentException($"MinValidationRows must be at least 1 (was {MinValidationRows}).");
    }
}
