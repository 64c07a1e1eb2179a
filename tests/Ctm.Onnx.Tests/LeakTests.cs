using System.Diagnostics;
using System.Globalization;

namespace Ctm.Onnx.Tests;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    // Process-wide measurements (RSS) and environment changes must not overlap other tests.
    public const string Name = "serial";
}

[Collection(SerialCollection.Name)]
public sealed class LeakTests(ITestOutputHelper output)
{
    private const long AllowedGrowthBytes = 24L * 1024 * 1024;

    [Fact]
    public void Run_AMillionTimes_ResidentMemoryStaysFlat()
    {
        using var sigmoid = OnnxSession.Create(TestModels.Sigmoid(), new OnnxSessionOptions { IntraOpThreads = 1 });
        using var encoder = OnnxSession.Create(TestModels.LabelEncoder(), new OnnxSessionOptions { IntraOpThreads = 1 });
        var x = new float[] { 0.25f };
        var y = new float[1];
        var strings = OrtTensor.FromString(["red", "purple"], 2);

        void Loop(int iterations)
        {
            for (var i = 0; i < iterations; i++)
            {
                switch (i % 4)
                {
                    case 0:
                    case 1:
                        var outputs = sigmoid.Run(new Dictionary<string, OrtTensor> { ["x"] = OrtTensor.FromFloat(x, 1, 1) });
                        if (outputs[0].AsFloat()[0] <= 0.5f)
                        {
                            throw new InvalidOperationException("wrong sigmoid");
                        }

                        break;
                    case 2:
                        sigmoid.Run([new FloatTensorInput("x", x, [1, 1])], [new FloatTensorOutput("y", y, i % 8 == 2 ? [1, 1] : null)]);
                        break;
                    default:
                        // Strings are the path with the most native allocations (ORT-owned buffers, allocator strings).
                        if (encoder.Run(new Dictionary<string, OrtTensor> { ["category"] = strings })[0].AsInt64()[1] != -1)
                        {
                            throw new InvalidOperationException("wrong code");
                        }

                        break;
                }
            }
        }

        Loop(100_000);
        var before = SettledRss();
        var watch = Stopwatch.StartNew();
        const int Iterations = 1_000_000;
        Loop(Iterations);
        watch.Stop();
        var after = SettledRss();

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Iterations:N0} runs in {watch.Elapsed.TotalSeconds:F2} s ({watch.Elapsed.TotalMicroseconds / Iterations:F2} µs/run); " +
            $"VmRSS {before / 1024} kB -> {after / 1024} kB ({(after - before) / 1024} kB)"));
        Assert.True(after - before < AllowedGrowthBytes, $"RSS grew by {(after - before) / 1024} kB over {Iterations:N0} runs.");
    }

    private static long SettledRss()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                var kb = long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                return kb * 1024;
            }
        }

        throw new InvalidOperationException("No VmRSS line in /proc/self/status.");
    }
}
