using System.ComponentModel.DataAnnotations;

namespace Ctm.Trainer.Extensions;

/// <summary>How models are trained, from the <c>Training</c> section.</summary>
public sealed class TrainingSettings
{
    public const string Section = "Training";

    /// <summary>
    /// Before a run, how long to wait for the previous run of the dataset to be promoted (or not), so that the run
    /// warm-starts from it rather than from the version before; 0 starts at once.
    /// </summary>
    [Range(0, 600)]
    public double PromotionWaitSeconds { get; set; } = 10;

    /// <summary>Widths of the hidden layers; empty for a linear or logistic model.</summary>
    public int[] HiddenLayers { get; set; } = [16];

    [Range(1, 10_000)]
    public int Epochs { get; set; } = 40;

    [Range(1, 65_536)]
    public int BatchSize { get; set; } = 64;

    [Range(1e-6, 10)]
    public double LearningRate { get; set; } = 0.01;

    public int Seed { get; set; } = 42;

    /// <summary>Fraction of the newest batch's rows (its newest rows) held out for evaluation.</summary>
    [Range(0.0, 0.5)]
    public double HoldoutFraction { get; set; } = 0.2;

    /// <summary>A job that failed this many times is marked failed instead of retried.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 3;

    /// <summary>
    /// <c>cpu</c>, <c>cuda</c> or <c>auto</c>. CUDA needs an engine registered under the key <c>cuda</c> and the CUDA
    /// driver; without them <c>cuda</c> falls back to the CPU with a warning, <c>auto</c> quietly.
    /// </summary>
    [RegularExpression("^(cpu|cuda|auto)$", ErrorMessage = "Training:Device must be cpu, cuda or auto.")]
    public string Device { get; set; } = "auto";

    /// <summary>Threads for training; 0 = all cores.</summary>
    [Range(0, 256)]
    public int MaxThreads { get; set; }
}
