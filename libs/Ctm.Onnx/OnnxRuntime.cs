using Ctm.Onnx.Model;
using Ort = Microsoft.ML.OnnxRuntime;

namespace Ctm.Onnx;

/// <summary>The process-wide ONNX Runtime: which version is loaded and what it offers.</summary>
/// <remarks>
/// The runtime comes from the <c>Microsoft.ML.OnnxRuntime.Gpu.Linux</c> and <c>Microsoft.ML.OnnxRuntime.Managed</c>
/// NuGet packages: every app that references this library gets <c>runtimes/linux-x64/native/libonnxruntime.so</c>
/// (with the CUDA provider beside it) in its build output, and the managed package loads it from there. There is
/// nothing to install and no path to configure. The single <c>OrtEnv</c> is created on first use, once,
/// thread-safely, and lives until the process exits.
/// </remarks>
public static class OnnxRuntime
{
    private static readonly Lazy<Ort.OrtEnv> Env = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Loads the native library and creates the environment now, so a broken install fails at start-up.</summary>
    /// <exception cref="DllNotFoundException">The native library is missing from the app's output or cannot load.</exception>
    public static void EnsureLoaded() => _ = Env.Value;

    /// <summary>ORT's version string, e.g. <c>1.31.0</c>.</summary>
    public static string Version => Env.Value.GetVersionString();

    /// <summary>Execution providers compiled into the loaded library, e.g. <c>CPUExecutionProvider</c>, <c>CUDAExecutionProvider</c>.</summary>
    /// <remarks>Compiled in is not usable: CUDA also needs the CUDA 13 libraries and a driver; see <see cref="ExecutionProvider.Cuda"/>.</remarks>
    public static IReadOnlyList<string> AvailableProviders => Env.Value.GetAvailableProviders();

    internal static Ort.OrtEnv Instance => Env.Value;

    /// <summary>What the CUDA execution provider needs on this machine, for error messages.</summary>
    public const string CudaRequirement =
        "The GPU needs CUDA 13 (libcudart, libcublas, libcublasLt 13, libcurand 10), cuDNN 9 and an NVIDIA driver " +
        "on the library path (LD_LIBRARY_PATH).";

    private static readonly Lazy<CudaAvailability> CudaProbe = new(ProbeCuda, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// Whether a session on CUDA device 0 can be created and run here, probed once per process (the first call
    /// loads the CUDA provider, which takes a moment; later calls return the cached answer).
    /// </summary>
    public static CudaAvailability Cuda => CudaProbe.Value;

    /// <summary>Adds the CUDA execution provider to <paramref name="options"/>, or throws naming what is missing.</summary>
    /// <exception cref="OnnxRuntimeException">The CUDA provider cannot load here; the message has ORT's reason and <see cref="CudaRequirement"/>.</exception>
    public static void AppendCuda(Ort.SessionOptions options, int deviceId = 0)
    {
        ArgumentNullException.ThrowIfNull(options);
        EnsureLoaded();
        try
        {
            // Loads libonnxruntime_providers_cuda.so from the app's output; without CUDA 13 and a driver ORT
            // reports "Failed to load shared library" here.
            options.AppendExecutionProvider_CUDA(deviceId);
        }
        catch (Ort.OnnxRuntimeException e)
        {
            var inner = OnnxRuntimeException.From(e);
            throw new OnnxRuntimeException(inner.ErrorCode, $"ONNX Runtime's CUDA execution provider is not available ({inner.Message}). {CudaRequirement}", e);
        }
    }

    private static CudaAvailability ProbeCuda()
    {
        try
        {
            var g = new OnnxGraphBuilder("cuda_probe");
            g.AddInput("x", TensorElementType.Float, [1]);
            g.AddNode("Relu", ["x"], ["y"]);
            g.AddOutput("y", TensorElementType.Float, [1]);
            using var options = new Ort.SessionOptions();
            AppendCuda(options);
            // The provider library can load and still fail when a session starts (no device, driver too old).
            using var session = new Ort.InferenceSession(g.Build(), options);
            using var x = Ort.OrtValue.CreateTensorValueFromMemory(new float[] { -1f }, [1]);
            using var runOptions = new Ort.RunOptions();
            using var results = session.Run(runOptions, ["x"], [x], ["y"]);
            return new CudaAvailability(true, null);
        }
        catch (Exception e) when (e is OnnxRuntimeException or Ort.OnnxRuntimeException or DllNotFoundException)
        {
            var reason = e is Ort.OnnxRuntimeException ort ? OnnxRuntimeException.From(ort).Message : e.Message;
            return new CudaAvailability(false, reason.Contains(CudaRequirement, StringComparison.Ordinal) ? reason : $"{reason} {CudaRequirement}");
        }
    }

    private static Ort.OrtEnv Load()
    {
        try
        {
            // Warnings only (the default): ORT's info level is chatty on every session creation.
            return Ort.OrtEnv.Instance();
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException or BadImageFormatException)
        {
            var inner = e is TypeInitializationException { InnerException: { } cause } ? cause : e;
            throw new DllNotFoundException(
                "ONNX Runtime's native library could not be loaded. It ships in the Microsoft.ML.OnnxRuntime.Gpu.Linux " +
                $"package and belongs in runtimes/linux-x64/native/ of the app's output ({AppContext.BaseDirectory}); " +
                $"rebuild the app, or publish it for linux-x64. ({inner.GetType().Name}: {inner.Message})",
                inner);
        }
    }
}

/// <summary>The answer of <see cref="OnnxRuntime.Cuda"/>.</summary>
/// <param name="IsAvailable">A session on CUDA device 0 was created and ran.</param>
/// <param name="Reason">Why not (ORT's message and what the GPU needs), or null when available.</param>
public sealed record CudaAvailability(bool IsAvailable, string? Reason);
