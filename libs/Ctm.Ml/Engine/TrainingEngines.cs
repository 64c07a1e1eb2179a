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

    /// <summary>The ONNX Runtime engine on CUDA when CUDA loads here, otherwise the managed engine.</summary>
    public const string Auto = "auto";

    /// <summary>The engine names <see cref="Select"/> accepts.</summary>
    public static IReadOnlyList<string> EngineNames { get; } = [Managed, OnnxRuntime];

    /// <summary>The device names <see cref="Select"/> accepts.</summary>
    public static IReadOnlyList<string> DeviceNames { get; } = [Cpu, Cuda, Auto];

    private static readonly ManagedTrainingEngine ManagedEngine = new();

    /// <summary>
    /// The engine for <paramref name="engine"/> on <paramref name="device"/>: <c>auto</c> takes the ONNX Runtime engine
    /// on CUDA when CUDA loads here (probed once per process) and the managed engine otherwise, whichever engine was
    /// named; <c>cuda</c> always gives the CUDA engine, which says why when it cannot load.
    /// </summary>
    /// <exception cref="ArgumentException">An unknown engine or device, or the managed engine on <c>cuda</c>.</exception>
    public static EngineChoice Select(string engine, string device)
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
            return OnnxRuntimeTrainingEngine.IsCudaAvailable
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
