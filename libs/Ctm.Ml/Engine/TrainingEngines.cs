using Ctm.Ml.Engine.Ort;

namespace Ctm.Ml.Engine;

/// <summary>Picks a training engine by name and device, as a dataset's training policy spells them.</summary>
public static class TrainingEngines
{
    /// <summary>The managed SIMD engine (<see cref="ManagedTrainingEngine"/>, CPU only).</summary>
    public const string Managed = "managed";

    /// <summary>The ONNX Runtime engine (<see cref="OnnxRuntimeTrainingEngine"/>).</summary>
    public const string OnnxRuntime = "onnxruntime";

    /// <summary>The CPU.</summary>
    public const string Cpu = "cpu";

    /// <summary>ONNX Runtime's CUDA provider on GPU 0.</summary>
    public const string Cuda = "cuda";

    /// <summary>
    /// The ONNX Runtime engine on CUDA when CUDA loads here and a training step is big enough for the GPU to win,
    /// otherwise the managed engine.
    /// </summary>
    public const string Auto = "auto";

    /// <summary>
    /// The default of the step size (multiply-adds of one forward pass over one batch, <see cref="StepMultiplyAdds"/>)
    /// from which <c>auto</c> takes CUDA. Measured on an H200 against the managed engine on its 16 cores
    /// (docs/benchmarks.md §8): a 32→64→64→1 model at batch 1024 (6.4 M) trains 4× faster on the managed engine,
    /// a 32→256→256→1 model at batch 256 (19 M) 1.6× faster on CUDA; small steps leave the GPU waiting on launches.
    /// </summary>
    public const long DefaultAutoCudaMinStepMultiplyAdds = 12_000_000;

    /// <summary>The engine names <see cref="Select"/> accepts.</summary>
    public static IReadOnlyList<string> EngineNames { get; } = [Managed, OnnxRuntime];

    /// <summary>The device names <see cref="Select"/> accepts.</summary>
    public static IReadOnlyList<string> DeviceNames { get; } = [Cpu, Cuda, Auto];

    private static readonly ManagedTrainingEngine ManagedEngine = new();

    /// <summary>
    /// Multiply-adds of one forward pass over one batch of an MLP with <paramref name="features"/> input features
    /// (a categorical feature costs one embedding row, as a numeric one costs one weight row), the hidden layers and
    /// <paramref name="outputs"/> outputs (callers that do not know the class count yet pass 1: the last layer is small
    /// beside the hidden ones). The backward pass costs about twice that, so it ranks steps the same way.
    /// </summary>
    public static long StepMultiplyAdds(int batchSize, int features, IReadOnlyList<int> hiddenLayers, int outputs)
    {
        ArgumentNullException.ThrowIfNull(hiddenLayers);
        long perRow = 0;
        var previous = Math.Max(1, features);
        foreach (var width in hiddenLayers.Append(Math.Max(1, outputs)))
        {
            perRow += (long)previous * width;
            previous = width;
        }

        return perRow * Math.Max(1, batchSize);
    }

    /// <summary>
    /// The engine for <paramref name="engine"/> on <paramref name="device"/>: <c>auto</c> takes the ONNX Runtime engine
    /// on CUDA when CUDA loads here (probed once per process) and a step has at least
    /// <paramref name="autoCudaMinStepMultiplyAdds"/> multiply-adds (<see cref="StepMultiplyAdds"/>; 0 = whenever CUDA
    /// loads), and the managed engine otherwise, whichever engine was named; <c>cuda</c> always gives the CUDA engine,
    /// which says why when it cannot load.
    /// </summary>
    /// <param name="engine"><c>managed</c> or <c>onnxruntime</c>.</param>
    /// <param name="device"><c>cpu</c>, <c>cuda</c> or <c>auto</c>.</param>
    /// <param name="stepMultiplyAdds">The run's step size; unknown (<see cref="long.MaxValue"/>) counts as big.</param>
    /// <param name="autoCudaMinStepMultiplyAdds">The step size from which <c>auto</c> takes CUDA.</param>
    /// <exception cref="ArgumentException">An unknown engine or device, or the managed engine on <c>cuda</c>.</exception>
    public static EngineChoice Select(string engine, string device, long stepMultiplyAdds = long.MaxValue, long autoCudaMinStepMultiplyAdds = 0)
    {
        if (!EngineNames.Contains(engine))
        {
            throw new ArgumentException($"Unknown training engine '{engine}'; use {string.Join(" or ", EngineNames)}.", nameof(engine));
        }

        if (!DeviceNames.Contains(device))
        {
            throw new ArgumentException($"Unknown training device '{device}'; use {string.Join(", ", DeviceNames)}.", nameof(device));
        }

        if (device == Auto)
        {
            return OnnxRuntimeTrainingEngine.IsCudaAvailable && stepMultiplyAdds >= autoCudaMinStepMultiplyAdds
                ? new EngineChoice(new OnnxRuntimeTrainingEngine(OrtTrainingDevice.Cuda), Cuda)
                : new EngineChoice(ManagedEngine, Cpu);
        }

        if (engine == Managed)
        {
            return device == Cpu
                ? new EngineChoice(ManagedEngine, Cpu)
                : throw new ArgumentException("The managed engine runs on the CPU only; use engine onnxruntime for cuda.", nameof(device));
        }

        return device == Cuda
            ? new EngineChoice(new OnnxRuntimeTrainingEngine(OrtTrainingDevice.Cuda), Cuda)
            : new EngineChoice(new OnnxRuntimeTrainingEngine(OrtTrainingDevice.Cpu), Cpu);
    }
}

/// <summary>The engine <see cref="TrainingEngines.Select"/> chose and the device it trains on (<c>cpu</c> or <c>cuda</c>).</summary>
/// <param name="Engine">The engine.</param>
/// <param name="Device"><c>cpu</c> or <c>cuda</c>.</param>
public sealed record EngineChoice(ITrainingEngine Engine, string Device);
