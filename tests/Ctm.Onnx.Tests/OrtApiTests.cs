namespace Ctm.Onnx.Tests;

/// <summary>Proves the OrtApi slot count with entries from the start, the middle and the end of the table.</summary>
public sealed class OrtApiTests
{
    // The internal table is filled on first use of the public API; tests that call it directly load it first.
    public OrtApiTests() => OnnxRuntime.EnsureLoaded();

    [Fact]
    public void Version_LoadedLibrary_Is130()
    {
        Assert.StartsWith("1.30", OnnxRuntime.Version, StringComparison.Ordinal);
        Assert.EndsWith("libonnxruntime.so.1", OnnxRuntime.LibraryPath, StringComparison.Ordinal);
    }

    [Fact]
    public void BuildInfo_Slot254_ReturnsOrtBuildString()
    {
        // GetBuildInfoString sits at slot 254: a wrong count would crash or return garbage.
        Assert.Contains("ORT Build Info", OnnxRuntime.BuildInfo, StringComparison.Ordinal);
    }

    [Fact]
    public void AvailableProviders_Slot125_ListsCpu()
    {
        Assert.Contains("CPUExecutionProvider", OnnxRuntime.AvailableProviders);
    }

    [Fact]
    public unsafe void GetTensorSizeInBytesAndGetTensorData_Slots318And378_DescribeATensor()
    {
        // Two API-1.23 entries near the end of the range we bind, called on a value ORT created.
        var data = new float[] { 1, 2, 3, 4, 5, 6 };
        var shape = new long[] { 2, 3 };
        fixed (float* p = data)
        fixed (long* s = shape)
        {
            nint value;
            Native.OrtRuntime.Check(Native.OrtApi.CreateTensorWithDataAsOrtValue(
                Native.OrtRuntime.CpuMemoryInfo.DangerousGetHandle(), p, (nuint)(data.Length * 4), s, 2, 1, &value));
            using var handle = new Native.OrtValueHandle(value);
            nuint size;
            Native.OrtRuntime.Check(Native.OrtApi.GetTensorSizeInBytes(value, &size));
            Assert.Equal((nuint)24, size);
            void* read;
            Native.OrtRuntime.Check(Native.OrtApi.GetTensorData(value, &read));
            Assert.Equal((nint)p, (nint)read);
        }
    }

    [Fact]
    public void ErrorStatus_Slots0To2_CarryCodeAndMessage()
    {
        unsafe
        {
            var status = Native.OrtApi.CreateStatus(2, (byte*)System.Runtime.InteropServices.Marshal.StringToCoTaskMemUTF8("boom"));
            var ex = Assert.Throws<OnnxRuntimeException>(() => Native.OrtRuntime.Check(status));
            Assert.Equal(2, ex.ErrorCode);
            Assert.Equal("boom", ex.Message);
        }
    }
}
