using System.Runtime.InteropServices;
using Ctm.Ml;
using Ctm.Trainer.Extensions;
using Microsoft.Extensions.Options;

namespace Ctm.Trainer.Training;

/// <summary>
/// The device runs train on, chosen once at start from <c>Training:Device</c>. Engines are registered as keyed
/// <see cref="ITrainingEngine"/> services: <c>cpu</c> (the managed SIMD engine) always, <c>cuda</c> where a GPU engine
/// is plugged in (e.g. forward, backward and optimizer graphs on ONNX Runtime's CUDA provider). CUDA is used only when
/// such an engine is registered and the CUDA driver loads; otherwise the CPU, with the reason logged.
/// </summary>
public sealed partial class TrainingDevice
{
    public const string Cpu = "cpu";
    public const string Cuda = "cuda";

    public TrainingDevice(IServiceProvider services, IOptions<TrainingSettings> settings, ILogger<TrainingDevice> logger)
    {
        var requested = settings.Value.Device;
        if (requested != Cpu)
        {
            var cuda = services.GetKeyedService<ITrainingEngine>(Cuda);
            var reason = cuda is null ? "no CUDA training engine is registered (this build ships the managed CPU engine)"
                : !CudaDriverLoads() ? "the CUDA driver (libcuda) does not load on this machine"
                : null;
            if (reason is null)
            {
                (Name, Engine) = (Cuda, cuda!);
                LogSelected(logger, Name, Engine.Name, requested);
                return;
            }

            if (requested == Cuda)
            {
                LogFallback(logger, reason);
            }
            else
            {
                LogAutoCpu(logger, reason);
            }
        }

        (Name, Engine) = (Cpu, services.GetRequiredKeyedService<ITrainingEngine>(Cpu));
        LogSelected(logger, Name, Engine.Name, requested);
    }

    /// <summary><c>cpu</c> or <c>cuda</c>: what <c>ModelTrained.Device</c> reports.</summary>
    public string Name { get; }

    public ITrainingEngine Engine { get; }

    private static bool CudaDriverLoads()
    {
        foreach (var name in new[] { "libcuda.so.1", "libcuda.so", "nvcuda.dll" })
        {
            if (NativeLibrary.TryLoad(name, out var handle))
            {
                NativeLibrary.Free(handle);
                return true;
            }
        }

        return false;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Training on {Device} with engine {Engine} (Training:Device = {Requested})")]
    private static partial void LogSelected(ILogger logger, string device, string engine, string requested);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Training:Device is cuda but {Reason}; falling back to the CPU")]
    private static partial void LogFallback(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Training:Device is auto and {Reason}; using the CPU")]
    private static partial void LogAutoCpu(ILogger logger, string reason);
}
