using System.Runtime.InteropServices;

namespace Ctm.Onnx.Native;

/// <summary>
/// Process-wide ONNX Runtime state: the loaded library, the bound <see cref="OrtApi"/> table, one <c>OrtEnv</c>,
/// the default allocator and a CPU memory info. Loaded lazily, once, on first use.
/// </summary>
internal static unsafe class OrtRuntime
{
    private static readonly Lazy<State> Loaded = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    private sealed record State(
        string LibraryPath,
        nint Library,
        OrtEnvHandle Env,
        nint DefaultAllocator,
        OrtMemoryInfoHandle CpuMemoryInfo,
        string Version);

    /// <summary>Loads the library and creates the environment if that has not happened yet.</summary>
    public static void EnsureLoaded() => _ = Loaded.Value;

    public static string LibraryPath => Loaded.Value.LibraryPath;

    public static string Version => Loaded.Value.Version;

    public static OrtEnvHandle Env => Loaded.Value.Env;

    /// <summary>The ORT default CPU allocator; owned by ORT, never released.</summary>
    public static nint DefaultAllocator => Loaded.Value.DefaultAllocator;

    public static OrtMemoryInfoHandle CpuMemoryInfo => Loaded.Value.CpuMemoryInfo;

    /// <summary>Throws <see cref="OnnxRuntimeException"/> with ORT's code and message if <paramref name="status"/> is an error.</summary>
    public static void Check(nint status)
    {
        if (status != nint.Zero)
        {
            throw OnnxRuntimeException.FromStatus(status);
        }
    }

    private static State Load()
    {
        var path = OrtLibraryLocator.Locate();
        var library = NativeLibrary.Load(path);
        var getApiBase = (delegate* unmanaged<nint*>)NativeLibrary.GetExport(library, "OrtGetApiBase");
        // OrtApiBase is { const OrtApi* (*GetApi)(uint32_t); const char* (*GetVersionString)(void); }.
        var apiBase = getApiBase();
        var getApi = (delegate* unmanaged<uint, nint*>)apiBase[0];
        var getVersionString = (delegate* unmanaged<byte*>)apiBase[1];
        var version = Marshal.PtrToStringUTF8((nint)getVersionString()) ?? "unknown";
        var table = getApi(OrtApi.Version);
        if (table == null)
        {
            throw new DllNotFoundException(
                $"ONNX Runtime at '{path}' (version {version}) does not provide OrtApi version {OrtApi.Version}; " +
                "install 1.23 or newer with scripts/install-onnxruntime.sh or point CTM_ONNXRUNTIME_LIB at a newer build.");
        }

        OrtApi.Bind(table);

        nint env;
        var logId = "ctm"u8;
        fixed (byte* id = logId)
        {
            // Warnings only: ORT's info level is chatty on every session creation.
            Check(OrtApi.CreateEnv(2, id, &env));
        }

        nint allocator;
        Check(OrtApi.GetAllocatorWithDefaultOptions(&allocator));

        nint memoryInfo;
        // OrtArenaAllocator = 1, OrtMemTypeDefault = 0: how ORT describes ordinary CPU memory we own.
        Check(OrtApi.CreateCpuMemoryInfo(1, 0, &memoryInfo));

        return new State(path, library, new OrtEnvHandle(env), allocator, new OrtMemoryInfoHandle(memoryInfo), version);
    }
}
