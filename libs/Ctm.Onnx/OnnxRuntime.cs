using System.Runtime.InteropServices;
using Ctm.Onnx.Native;

namespace Ctm.Onnx;

/// <summary>The process-wide ONNX Runtime: which library is loaded and what it offers.</summary>
/// <remarks>
/// The native library is found in this order: the file named by <see cref="LibraryEnvironmentVariable"/>
/// (a full path, e.g. a CUDA build); <c>libonnxruntime.so.1</c> in <see cref="AppContext.BaseDirectory"/>;
/// <c>.ctm/onnxruntime/libonnxruntime.so.1</c> in <see cref="AppContext.BaseDirectory"/> or any parent, then in the
/// current directory or any parent (where <c>scripts/install-onnxruntime.sh</c> puts it). If none exists, the
/// first use throws <see cref="DllNotFoundException"/> saying how to install it. The library and its single
/// <c>OrtEnv</c> are created lazily, once, thread-safely, and live until the process exits.
/// </remarks>
public static class OnnxRuntime
{
    /// <summary>Environment variable holding the full path of the ORT library to load; checked first.</summary>
    public const string LibraryEnvironmentVariable = "CTM_ONNXRUNTIME_LIB";

    /// <summary>The OrtApi version this binding requests (ORT 1.23 and newer provide it).</summary>
    public const int ApiVersion = (int)OrtApi.Version;

    /// <summary>Loads the library and creates the environment now, so a missing library fails at start-up.</summary>
    public static void EnsureLoaded() => OrtRuntime.EnsureLoaded();

    /// <summary>Full path of the loaded library.</summary>
    public static string LibraryPath => OrtRuntime.LibraryPath;

    /// <summary>ORT's version string, e.g. <c>1.30.0</c> (<c>OrtApiBase::GetVersionString</c>).</summary>
    public static string Version => OrtRuntime.Version;

    /// <summary>ORT's build description (<c>OrtApi::GetBuildInfoString</c>).</summary>
    public static unsafe string BuildInfo
    {
        get
        {
            OrtRuntime.EnsureLoaded();
            return Marshal.PtrToStringUTF8((nint)OrtApi.GetBuildInfoString()) ?? string.Empty;
        }
    }

    /// <summary>Execution providers compiled into the loaded library, e.g. <c>CPUExecutionProvider</c>.</summary>
    public static unsafe IReadOnlyList<string> AvailableProviders
    {
        get
        {
            OrtRuntime.EnsureLoaded();
            nint list;
            int count;
            OrtRuntime.Check(OrtApi.GetAvailableProviders(&list, &count));
            try
            {
                var names = new string[count];
                for (var i = 0; i < count; i++)
                {
                    names[i] = Marshal.PtrToStringUTF8(((nint*)list)[i]) ?? string.Empty;
                }

                return names;
            }
            finally
            {
                OrtRuntime.Check(OrtApi.ReleaseAvailableProviders(list, count));
            }
        }
    }
}
