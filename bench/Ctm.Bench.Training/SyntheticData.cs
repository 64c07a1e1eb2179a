using Ctm.Ml;
using Ctm.Ml.Engine;

namespace Ctm.Bench.Training;

/// <summary>
/// The benchmark's data: 32 standard-normal features and a nonlinear binary label, written once as raw float32
/// rows (32 features then the label) so that both trainers read the same bytes.
/// </summary>
internal static class SyntheticData
{
    public const int Features = 32;

    public static float[] Generate(int rows, ulong seed)
    {
        var rng = new Rng(seed);
        var data = new float[rows * (Features + 1)];
        var x = new double[Features];
        for (var r = 0; r < rows; r++)
        {
            for (var j = 0; j < Features; j++)
            {
                x[j] = rng.NextGaussian();
            }

            var s = (x[0] * x[1]) + Math.Sin(2 * x[2]) + (x[3] * x[3]) - 1 + (0.8 * Math.Tanh(x[4] + x[5])) - (0.5 * x[6] * x[7]);
            for (var j = 8; j < Features; j++)
            {
                s += 0.15 * x[j] * ((j % 3) - 1);
            }

            var o = r * (Features + 1);
            for (var j = 0; j < Features; j++)
            {
                data[o + j] = (float)x[j];
            }

            data[o + Features] = s > 0 ? 1f : 0f;
        }

        return data;
    }

    public static void Write(string path, float[] data)
    {
        using var file = File.Create(path);
        file.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()));
    }

    public static TabularDataset ToDataset(float[] data)
    {
        var rows = data.Length / (Features + 1);
        var builder = TabularDataset.CreateBuilder();
        for (var j = 0; j < Features; j++)
        {
            var column = new double[rows];
            for (var r = 0; r < rows; r++)
            {
                column[r] = data[(r * (Features + 1)) + j];
            }

            builder.AddNumeric($"x{j}", column);
        }

        var labels = new string[rows];
        for (var r = 0; r < rows; r++)
        {
            labels[r] = data[(r * (Features + 1)) + Features] > 0.5f ? "1" : "0";
        }

        return builder.WithLabel("y", labels).Build();
    }
}
