namespace Ctm.Onnx.Native;

/// <summary>Finds <c>libonnxruntime.so.1</c>; see <see cref="OnnxRuntime.LibraryEnvironmentVariable"/> for the order.</summary>
internal static class OrtLibraryLocator
{
    public const string LibraryFileName = "libonnxruntime.so.1";

    /// <summary>Where <c>scripts/install-onnxruntime.sh</c> puts the library, relative to the repository root.</summary>
    public static readonly string InstalledRelativePath = Path.Combine(".ctm", "onnxruntime", LibraryFileName);

    public static string Locate()
    {
        var tried = new List<string>();
        var fromEnvironment = Environment.GetEnvironmentVariable(OnnxRuntime.LibraryEnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            // An explicit setting that points nowhere is a configuration error, not a reason to pick another build.
            if (!File.Exists(fromEnvironment))
            {
                throw new DllNotFoundException(
                    $"{OnnxRuntime.LibraryEnvironmentVariable} is set to '{fromEnvironment}', but no file is there. " +
                    "Point it at an existing libonnxruntime.so.1, or unset it and run scripts/install-onnxruntime.sh.");
            }

            return Path.GetFullPath(fromEnvironment);
        }

        var besideApp = Path.Combine(AppContext.BaseDirectory, LibraryFileName);
        tried.Add(besideApp);
        if (File.Exists(besideApp))
        {
            return besideApp;
        }

        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, InstalledRelativePath);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }

            tried.Add(Path.Combine(start, "(and every parent)", InstalledRelativePath));
        }

        throw new DllNotFoundException(
            "ONNX Runtime native library not found. Run scripts/install-onnxruntime.sh from the repository root, " +
            $"or set {OnnxRuntime.LibraryEnvironmentVariable} to the full path of a libonnxruntime.so.1 " +
            $"(for example a CUDA build). Looked in: {string.Join("; ", tried)}.");
    }
}
