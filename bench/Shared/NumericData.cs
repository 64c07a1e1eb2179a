using Ctm.Ml;

namespace Ctm.Bench.Shared;

/// <summary>The 32-numeric-feature binary task the serving and ONNX-call benchmarks both use, so they measure the same model.</summary>
internal static class NumericData
{
    /// <summary><paramref name="rows"/> rows of f0..f31 uniform in [-2, 2); the label is the sign of a fixed weighted sum.</summary>
    public static TabularDataset ThirtyTwoFeatures(int rows, int seed = 2)
    {
        var random = new Random(seed);
        var builder = TabularDataset.CreateBuilder();
        var columns = Enumerable.Range(0, 32).Select(_ => new double[rows]).ToArray();
        var y = new string?[rows];
        for (var i = 0; i < rows; i++)
        {
            var sum = 0.0;
            for (var f = 0; f < columns.Length; f++)
            {
                columns[f][i] = (random.NextDouble() * 4) - 2;
                sum += columns[f][i] * (f % 2 == 0 ? 1 : -0.5);
            }

            y[i] = sum > 0 ? "yes" : "no";
        }

        for (var f = 0; f < columns.Length; f++)
        {
            builder.AddNumeric($"f{f}", columns[f]);
        }

        return builder.WithLabel("label", y).Build();
    }
}
