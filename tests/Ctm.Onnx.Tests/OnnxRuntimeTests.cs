using System.Runtime.InteropServices;

namespace Ctm.Onnx.Tests;

/// <summary>The runtime comes from the NuGet packages, out of this test's own build output, with nothing installed.</summary>
public sealed class OnnxRuntimeTests
{
    [Fact]
    public void EnsureLoaded_NoEnvironmentOrInstall_LoadsTheLibraryFromTheBuildOutput()
    {
        OnnxRuntime.EnsureLoaded();

        var expected = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libonnxruntime.so");
        Assert.True(File.Exists(expected), $"{expected} is missing: the Microsoft.ML.OnnxRuntime.Gpu.Linux package did not reach the build output.");
        var mapped = File.ReadLines("/proc/self/maps").Where(l => l.Contains("libonnxruntime.so", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(mapped);
        Assert.All(mapped, l => Assert.EndsWith(expected, l, StringComparison.Ordinal));
    }

    [Fact]
    public void Version_IsThePackagesVersion()
    {
        Assert.Equal("1.31.0", OnnxRuntime.Version);
    }

    [Fact]
    public void AvailableProviders_ListCpuAndTheCompiledInCudaProvider()
    {
        Assert.Contains("CPUExecutionProvider", OnnxRuntime.AvailableProviders);
        Assert.Contains("CUDAExecutionProvider", OnnxRuntime.AvailableProviders);
    }

    [Fact]
    public void CudaProvider_IsInTheBuildOutputBesideTheRuntime()
    {
        // What a GPU machine needs from the build: the provider library next to libonnxruntime.so.
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libonnxruntime_providers_cuda.so")));
    }

    /// <summary>True where the CUDA 13 libraries the provider links against, and a driver, can be loaded.</summary>
    internal static bool CudaLibrariesLoad()
    {
        foreach (var name in new[] { "libcuda.so.1", "libcudart.so.13", "libcublas.so.13", "libcublasLt.so.13" })
        {
            if (!NativeLibrary.TryLoad(name, out var handle))
            {
                return false;
            }

            NativeLibrary.Free(handle);
        }

        return true;
    }
}
