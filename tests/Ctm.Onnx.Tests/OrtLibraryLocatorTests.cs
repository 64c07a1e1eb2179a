using Ctm.Onnx.Native;

namespace Ctm.Onnx.Tests;

[Collection(SerialCollection.Name)]
public sealed class OrtLibraryLocatorTests
{
    [Fact]
    public void Locate_EnvironmentVariablePointsNowhere_ThrowsSayingHowToFix()
    {
        var previous = Environment.GetEnvironmentVariable(OnnxRuntime.LibraryEnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(OnnxRuntime.LibraryEnvironmentVariable, "/nonexistent/libonnxruntime.so.1");

            var ex = Assert.Throws<DllNotFoundException>(OrtLibraryLocator.Locate);
            Assert.Contains("CTM_ONNXRUNTIME_LIB", ex.Message, StringComparison.Ordinal);
            Assert.Contains("scripts/install-onnxruntime.sh", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(OnnxRuntime.LibraryEnvironmentVariable, previous);
        }
    }

    [Fact]
    public void Locate_EnvironmentVariableSet_WinsOverTheInstalledCopy()
    {
        var previous = Environment.GetEnvironmentVariable(OnnxRuntime.LibraryEnvironmentVariable);
        var copy = Path.Combine(Path.GetTempPath(), $"ctm-ort-{Guid.NewGuid():N}.so");
        try
        {
            File.WriteAllBytes(copy, []);
            Environment.SetEnvironmentVariable(OnnxRuntime.LibraryEnvironmentVariable, copy);

            Assert.Equal(copy, OrtLibraryLocator.Locate());
        }
        finally
        {
            Environment.SetEnvironmentVariable(OnnxRuntime.LibraryEnvironmentVariable, previous);
            File.Delete(copy);
        }
    }

    [Fact]
    public void Locate_NoSetting_FindsTheInstalledLibraryByWalkingUp()
    {
        var previous = Environment.GetEnvironmentVariable(OnnxRuntime.LibraryEnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(OnnxRuntime.LibraryEnvironmentVariable, null);

            var path = OrtLibraryLocator.Locate();

            Assert.EndsWith(Path.Combine(".ctm", "onnxruntime", "libonnxruntime.so.1"), path, StringComparison.Ordinal);
            Assert.True(File.Exists(path), "Run scripts/install-onnxruntime.sh: the ONNX Runtime library is missing.");
        }
        finally
        {
            Environment.SetEnvironmentVariable(OnnxRuntime.LibraryEnvironmentVariable, previous);
        }
    }
}
