using Ctm.Ml.Engine;
using Ctm.Trainer.Extensions;
using Ctm.Trainer.Policies;
using Microsoft.Extensions.Options;

namespace Ctm.Trainer.Training;

/// <summary>
/// The engine and device a dataset's runs train on: the policy's <c>engine</c> (<c>managed</c> | <c>onnxruntime</c>)
/// and <c>device</c> (<c>cpu</c> | <c>cuda</c> | <c>auto</c>), or the service's <c>Training:Engine</c> and
/// <c>Training:Device</c> where the policy leaves them unset. <c>auto</c> takes the ONNX Runtime engine on CUDA when
/// CUDA loads here (probed once per process) and the run's step is big enough for the GPU to win
/// (<c>Training:AutoCudaMinStepMultiplyAdds</c>), and the managed engine otherwise; <c>cuda</c> without CUDA fails the
/// run with ONNX Runtime's reason instead of quietly training elsewhere.
/// </summary>
public sealed partial class TrainingDevice(IOptions<TrainerOptions> settings, ILogger<TrainingDevice> logger)
{
    public const string Cpu = TrainingEngines.Cpu;
    public const string Cuda = TrainingEngines.Cuda;

    private int _autoLogged;

    /// <summary>The service's defaults, for the start-up log.</summary>
    public string Defaults => $"engine {settings.Value.Engine}, device {settings.Value.Device}";

    /// <summary>The engine for a dataset with <paramref name="policy"/>, and the device it trains on (<c>cpu</c> or <c>cuda</c>).</summary>
    /// <param name="policy">The dataset's policy.</param>
    /// <param name="stepMultiplyAdds">The run's step size (<see cref="TrainingEngines.StepMultiplyAdds"/>), for <c>auto</c>.</param>
    /// <exception cref="ArgumentException"><c>cuda</c> was asked for and CUDA does not load here; the message says why.</exception>
    public EngineChoice Choose(TrainingPolicy policy, long stepMultiplyAdds)
    {
        var engine = policy.Engine ?? settings.Value.Engine;
        var device = policy.Device ?? settings.Value.Device;
        if (device == Cuda && !OnnxRuntimeCuda.IsAvailable)
        {
            throw new ArgumentException($"Training device cuda was asked for, but {OnnxRuntimeCuda.Reason}");
        }

        var minimum = settings.Value.AutoCudaMinStepMultiplyAdds;
        var choice = TrainingEngines.Select(engine, device, stepMultiplyAdds, minimum);
        if (device == TrainingEngines.Auto && choice.Device == Cpu && Interlocked.Exchange(ref _autoLogged, 1) == 0)
        {
            LogAutoCpu(logger, OnnxRuntimeCuda.IsAvailable
                ? $"CUDA loads, but a step of {stepMultiplyAdds:N0} multiply-adds is below Training:AutoCudaMinStepMultiplyAdds ({minimum:N0}), where the managed engine is faster"
                : OnnxRuntimeCuda.Reason ?? "CUDA is not available");
        }

        return choice;
    }

    private static class OnnxRuntimeCuda
    {
        public static bool IsAvailable => Ml.Engine.Ort.OnnxRuntimeTrainingEngine.IsCudaAvailable;

        public static string? Reason => Ml.Engine.Ort.OnnxRuntimeTrainingEngine.CudaUnavailableReason;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Training device auto trains on the CPU with the managed engine (logged once): {Reason}")]
    private static partial void LogAutoCpu(ILogger logger, string reason);
}
