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
