using Ctm.Onnx;

namespace Ctm.Ml.Engine.Ort;

/// <summary>
/// Trains the same network as <see cref="ManagedTrainingEngine"/> with the training step written as ONNX graphs
/// (forward, loss, backward, Adam) and run by ONNX Runtime: on the CUDA execution provider, or the CPU one. The
/// parameters and Adam moments stay in the device's memory between steps; each step sends up only the batch and
/// brings back the batch's loss. Everything around the step is the managed engine's own code: preprocessing,
/// initialization, warm start, the learning-rate schedule, validation with early stopping and best-epoch restore,
/// calibration and the exported state, so both engines produce models of the same shape and quality.
/// </summary>
/// <param name="device">Where the step runs. <see cref="OrtTrainingDevice.Cuda"/> throws
/// <see cref="OnnxRuntimeException"/> at the first training call when CUDA does not load here (see
/// <see cref="IsCudaAvailable"/> to ask first).</param>
public sealed class OnnxRuntimeTrainingEngine(OrtTrainingDevice device = OrtTrainingDevice.Cpu) : ITrainingEngine
{
    /// <summary>The engine's name without the device.</summary>
    public const string EngineName = "ctm-onnxruntime";

    /// <inheritdoc />
    public string Name => $"{EngineName}-{DeviceName}";

    /// <summary>Where the step runs.</summary>
    public OrtTrainingDevice Device { get; } = device;

    /// <summary><c>cpu</c> or <c>cuda</c>.</summary>
    public string DeviceName => Device == OrtTrainingDevice.Cuda ? "cuda" : "cpu";

    /// <summary>
    /// Whether ONNX Runtime's CUDA provider loads and runs on device 0 here; probed once per process and cached.
    /// When false, <see cref="CudaUnavailableReason"/> says why.
    /// </summary>
    public static bool IsCudaAvailable => OnnxRuntime.Cuda.IsAvailable;

    /// <summary>ORT's reason and what the GPU needs, when <see cref="IsCudaAvailable"/> is false; otherwise null.</summary>
    public static string? CudaUnavailableReason => OnnxRuntime.Cuda.Reason;

    /// <inheritdoc />
    public TrainedModel Train(
        TabularDataset train, TrainingOptions options, ModelState? warmStart = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Fit(train, null, options, warmStart, progress, cancellationToken);

    /// <inheritdoc />
    /// <exception cref="OnnxRuntimeException">CUDA was asked for and does not load here; the message says why.</exception>
    public TrainedModel Fit(
        TabularDataset train, TabularDataset? validation, TrainingOptions options, ModelState? warmStart = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return TrainingLoop.Fit(
            Name, train, validation, options, warmStart, progress,
            (net, data) => new OrtStepRunner(net, data, options, Device), cancellationToken);
    }

    /// <inheritdoc />
    public TrainingEstimate Estimate(
        TabularDataset train, TrainingOptions options, ModelState? warmStart = null,
        TimeSpan? warmup = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return TrainingLoop.Estimate(
            train, options, warmStart, warmup, (net, data) => new OrtStepRunner(net, data, options, Device), cancellationToken);
    }
}
