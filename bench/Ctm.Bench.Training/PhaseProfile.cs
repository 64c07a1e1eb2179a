using System.Diagnostics;
using Ctm.Ml;
using Ctm.Ml.Engine;

namespace Ctm.Bench.Training;

/// <summary>Single-thread time per phase of a 128-row shard step (<c>--profile</c>), to see where a batch goes.</summary>
internal static class PhaseProfile
{
    public static void Run(TabularDataset train)
    {
        var options = new TrainingOptions { Task = ModelTask.BinaryClassification, HiddenLayers = [64, 64], Epochs = 1, BatchSize = 256 };
        var (_, data, net) = ManagedTrainingEngine.Prepare(train, options, null);
        var ws = new Workspace(net, 128);
        var rows = Enumerable.Range(0, 128).ToArray();
        var t = new long[4];
        const int iterations = 20000;
        for (var i = 0; i < iterations + 2000; i++)
        {
            var a = Stopwatch.GetTimestamp();
            net.Gather(ws, data, rows);
            net.Forward(ws);
            var b = Stopwatch.GetTimestamp();
            net.LossAndLogitGradient(ws, rows, data, 128f);
            var c = Stopwatch.GetTimestamp();
            net.Backward(ws);
            var d = Stopwatch.GetTimestamp();
            if (i >= 2000)
            {
                t[0] += b - a;
                t[1] += c - b;
                t[2] += d - c;
            }
        }

        double Us(long ticks) => ticks * 1e6 / Stopwatch.Frequency / iterations;
        var flops = 2.0 * 128 * ((32 * 64) + (64 * 64) + 64);
        Console.WriteLine($"profile, per 128-row shard: forward {Us(t[0]):F1} µs ({flops / Us(t[0]) / 1e3:F1} GFLOP/s), loss {Us(t[1]):F1} µs, backward {Us(t[2]):F1} µs ({(2 * flops - (2.0 * 128 * 32 * 64)) / Us(t[2]) / 1e3:F1} GFLOP/s)");
    }
}
