using System.ComponentModel.DataAnnotations;
using Ctm.Ml;
using Ctm.Ml.Continual;

namespace Ctm.Trainer.Extensions;

/// <summary>
/// How models are trained, from the <c>Training</c> section: the continual recipe (<see cref="ContinualRecipe"/>), whose
/// defaults were chosen by prequential measurement (services/Trainer/README.md has the table).
/// </summary>
public sealed class TrainerOptions
{
    public const string Section = "Training";

    /// <summary>The hidden layers when <see cref="HiddenLayers"/> is not set.</summary>
    public static readonly int[] DefaultHiddenLayers = [32];

    /// <summary>
    /// Before a run, how long to wait for the previous run of the dataset to be promoted (or not), so that the run
    /// warm-starts from it rather than from the version before; 0 starts at once.
    /// </summary>
    [Range(0, 600)]
    public double PromotionWaitSeconds { get; set; } = 10;

    /// <summary>
    /// Widths of the hidden layers of a fresh model; <c>[0]</c> for a linear or logistic model. Null (unset) means
    /// <see cref="DefaultHiddenLayers"/>: the default lives outside the property because the configuration binder
    /// appends configured array elements to an initialized array (<c>[16]</c> became <c>16,16</c>).
    /// </summary>
    public int[]? HiddenLayers { get; set; }

    /// <summary>The hidden layers a fresh model gets.</summary>
    public IReadOnlyList<int> EffectiveHiddenLayers =>
        HiddenLayers is null || HiddenLayers.Length == 0 ? DefaultHiddenLayers : HiddenLayers is [0] ? [] : HiddenLayers;

    /// <summary>Most epochs of a full retrain (early stopping on held-out new rows usually ends it sooner).</summary>
    [Range(1, 10_000)]
    public int Epochs { get; set; } = 6;

    [Range(1, 65_536)]
    public int BatchSize { get; set; } = 32;

    /// <summary>Peak learning rate of a full retrain (cosine schedule with a short warm-up).</summary>
    [Range(1e-6, 10)]
    public double LearningRate { get; set; } = 0.005;

    /// <summary>Most epochs of a warm update (new rows plus replay).</summary>
    [Range(1, 10_000)]
    public int UpdateEpochs { get; set; } = 5;

    /// <summary>Peak learning rate of a warm update.</summary>
    [Range(1e-6, 10)]
    public double UpdateLearningRate { get; set; } = 0.002;

    /// <summary>Decoupled (AdamW) weight decay.</summary>
    [Range(0.0, 1.0)]
    public double WeightDecay { get; set; } = 0.01;

    /// <summary>Epochs without a better validation loss before a full retrain stops.</summary>
    [Range(0, 1000)]
    public int Patience { get; set; } = 2;

    /// <summary>Share of the new training rows held out for early stopping and calibration (not the evaluation holdout).</summary>
    [Range(0.0, 0.5)]
    public double ValidationFraction { get; set; } = 0.2;

    /// <summary>Replay rows per new row in a warm update, sampled from the older batches of the window.</summary>
    [Range(0.0, 100.0)]
    public double ReplayRatio { get; set; } = 0.5;

    /// <summary>After this many warm updates in a row, the next run is a full retrain.</summary>
    [Range(1, 10_000)]
    public int FullRetrainEvery { get; set; } = 16;

    /// <summary>A window that doubled since the last full retrain is refitted once it holds this many rows (0: never).</summary>
    [Range(0, int.MaxValue)]
    public int GrowthMinRows { get; set; } = 2_000;

    /// <summary>A full retrain trains on at most this many of the newest rows of the window (0: all).</summary>
    [Range(0, int.MaxValue)]
    public int MaxFullRows { get; set; } = 16_000;

    /// <summary>Calibrate a full retrain's classification model on its held-out rows (folded into the last layer; the ONNX graph is unchanged).</summary>
    public bool Calibrate { get; set; } = true;

    /// <summary>Also calibrate warm updates (off: a map fitted on a hundred new rows fits their noise).</summary>
    public bool CalibrateUpdates { get; set; }

    /// <summary>Nats by which a warm update may predict its held-out new rows worse than the class prior before a full retrain replaces it.</summary>
    [Range(0.0, 100.0)]
    public double DriftMargin { get; set; } = 0.05;

    /// <summary>Categories seen fewer times than this in a fresh model's data share the out-of-vocabulary row.</summary>
    [Range(1, 1_000_000)]
    public int MinCategoryCount { get; set; } = 1;

    public int Seed { get; set; } = 42;

    /// <summary>Fraction of the newest batch's rows (its newest rows) held out for evaluation and the promotion gate.</summary>
    [Range(0.0, 0.5)]
    public double HoldoutFraction { get; set; } = 0.2;

    /// <summary>A job whose run failed this many times for a transient reason is marked failed instead of retried.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 3;

    /// <summary>
    /// Where a dataset trains when its policy does not say: <c>cpu</c>, <c>cuda</c> (ONNX Runtime's CUDA provider;
    /// a run fails with the reason when CUDA does not load) or <c>auto</c> (the ONNX Runtime engine on CUDA when CUDA
    /// loads, otherwise the managed engine on the CPU).
    /// </summary>
    [RegularExpression("^(cpu|cuda|auto)$", ErrorMessage = "Training:Device must be cpu, cuda or auto.")]
    public string Device { get; set; } = "auto";

    /// <summary>
    /// Device <c>auto</c> takes CUDA (where it loads) only for runs whose training step has at least this many
    /// multiply-adds (batch size × the model's layer products); smaller steps train faster on the managed engine even
    /// beside an H200 (docs/benchmarks.md §8). 0 takes CUDA whenever it loads.
    /// </summary>
    [Range(0, long.MaxValue)]
    public long AutoCudaMinStepMultiplyAdds { get; set; } = Ml.Engine.TrainingEngines.DefaultAutoCudaMinStepMultiplyAdds;

    /// <summary>
    /// The engine a dataset trains with when its policy does not say: <c>managed</c> (SIMD on the CPU) or
    /// <c>onnxruntime</c> (the training step as ONNX graphs on ONNX Runtime, CPU or CUDA).
    /// </summary>
    [RegularExpression("^(managed|onnxruntime)$", ErrorMessage = "Training:Engine must be managed or onnxruntime.")]
    public string Engine { get; set; } = "managed";

    /// <summary>Threads for training; 0 = all cores.</summary>
    [Range(0, 256)]
    public int MaxThreads { get; set; }

    /// <summary>The recipe for a dataset: these settings, with a policy's fixed epoch count (no early stopping) where it sets one.</summary>
    public RecipeOptions Recipe(ModelTask task, int? fixedEpochs, int? batchSize) => new()
    {
        Task = task,
        HiddenLayers = EffectiveHiddenLayers,
        BatchSize = batchSize ?? BatchSize,
        FullEpochs = fixedEpochs ?? Epochs,
        FullLearningRate = LearningRate,
        UpdateEpochs = fixedEpochs ?? UpdateEpochs,
        UpdateLearningRate = UpdateLearningRate,
        WeightDecay = WeightDecay,
        Patience = fixedEpochs is null ? Patience : 0,
        ValidationFraction = ValidationFraction,
        ReplayRatio = ReplayRatio,
        FullRetrainEvery = FullRetrainEvery,
        GrowthMinRows = GrowthMinRows,
        MaxFullRows = MaxFullRows,
        Calibrate = Calibrate,
        CalibrateUpdates = CalibrateUpdates,
        DriftMargin = DriftMargin,
        MinCategoryCount = MinCategoryCount,
        MaxThreads = MaxThreads,
    };
}
