using Ctm.Data.Schema;
using Ctm.Data.Statistics;

namespace Ctm.Data.Tests.Support;

/// <summary>
/// A fixed tabular distribution: 20 numeric features of assorted shapes (normal, log-normal, uniform,
/// counts, some with missing values), 5 categorical features and an imbalanced binary label.
/// Rows are generated in memory and fed to <see cref="StatisticsBuilder"/> as values, not CSV.
/// </summary>
internal sealed class SyntheticData
{
    public const int NumericCount = 20;
    public const int CategoricalCount = 5;
    public const string Label = "label";

    private static readonly string[][] Categories =
    [
        ["A", "B", "C"],
        ["red", "green", "blue", "yellow", "black", "white"],
        [.. Enumerable.Range(0, 12).Select(i => $"city{i:00}")],
        ["web", "mobile"],
        [.. Enumerable.Range(0, 20).Select(i => $"sku{i:00}")],
    ];

    private static readonly double[][] Weights = [.. Categories.Select(c => Zipf(c.Length))];

    public static IReadOnlyList<string> Columns { get; } =
        [.. Enumerable.Range(0, NumericCount).Select(i => $"x{i:00}"), .. Enumerable.Range(0, CategoricalCount).Select(i => $"c{i}"), Label];

    /// <summary>Types only: what the generator produces, before any schema is inferred.</summary>
    public static DataSchema TypeSchema { get; } = new()
    {
        LabelColumn = Label,
        Columns = [.. Columns.Select((name, i) => new ColumnSchema { Name = name, Type = i < NumericCount ? ColumnType.Numeric : ColumnType.Categorical })],
    };

    /// <summary>A change applied to generated rows.</summary>
    public Func<Row, Row>? Corrupt { get; init; }

    public static int CategoricalIndex(int c) => NumericCount + c;

    public static int LabelIndex => NumericCount + CategoricalCount;

    public static string[] CategoriesOf(int c) => Categories[c];

    public BatchStatistics Batch(Random random, int rows, DataSchema? schema = null)
    {
        var builder = new StatisticsBuilder(Columns, schema ?? TypeSchema);
        AddRows(builder, random, rows);
        return builder.Build();
    }

    public void AddRows(StatisticsBuilder builder, Random random, int rows)
    {
        var row = new Row(new double[NumericCount], new string?[CategoricalCount], "no");
        for (var r = 0; r < rows; r++)
        {
            Generate(random, row);
            var current = Corrupt is null ? row : Corrupt(row);
            for (var i = 0; i < NumericCount; i++)
            {
                if (double.IsNaN(current.Numeric[i]) && !current.NaNIsValue)
                {
                    builder.AddMissing(i);
                }
                else
                {
                    builder.Add(i, current.Numeric[i]);
                }
            }

            for (var c = 0; c < CategoricalCount; c++)
            {
                builder.Add(CategoricalIndex(c), current.Categorical[c]);
            }

            builder.Add(LabelIndex, current.Label);
            builder.EndRow();
        }
    }

    public BatchStatistics Baseline(Random random, int batches, int rows) =>
        BatchStatistics.Merge(Enumerable.Range(0, batches).Select(_ => Batch(random, rows)));

    private static void Generate(Random random, Row row)
    {
        var x = row.Numeric;
        for (var i = 0; i < NumericCount; i++)
        {
            x[i] = (i % 5) switch
            {
                0 => Normal(random),                                 // standard normal
                1 => 50 + (10 * Normal(random)),                     // shifted and scaled
                2 => Math.Exp(1 + (0.5 * Normal(random))),          // log-normal (prices)
                3 => random.NextDouble() * 100,                      // uniform
                _ => Poisson(random, 3 + i),                         // counts
            };

            // Two features are sometimes missing (NaN marks missing in the generator).
            if (i is 7 or 13 && random.NextDouble() < 0.05)
            {
                x[i] = double.NaN;
            }
        }

        for (var c = 0; c < CategoricalCount; c++)
        {
            row.Categorical[c] = c == 3 && random.NextDouble() < 0.05 ? null : Pick(random, Categories[c], Weights[c]);
        }

        row.Label = random.NextDouble() < 0.2 ? "yes" : "no";
        row.NaNIsValue = false;
    }

    public static double Normal(Random random)
    {
        var u1 = 1 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    private static int Poisson(Random random, double lambda)
    {
        var l = Math.Exp(-lambda);
        var k = 0;
        var p = 1.0;
        do
        {
            k++;
            p *= random.NextDouble();
        }
        while (p > l);
        return k - 1;
    }

    private static string Pick(Random random, string[] values, double[] cumulative)
    {
        var u = random.NextDouble();
        for (var i = 0; i < cumulative.Length; i++)
        {
            if (u < cumulative[i])
            {
                return values[i];
            }
        }

        return values[^1];
    }

    // Zipf-like weights, floored so every category has at least 2% of the mass.
    private static double[] Zipf(int n)
    {
        var w = Enumerable.Range(1, n).Select(k => Math.Max(1.0 / k, 0.02 * n / 2)).ToArray();
        var sum = w.Sum();
        var cumulative = new double[n];
        double acc = 0;
        for (var i = 0; i < n; i++)
        {
            acc += w[i] / sum;
            cumulative[i] = acc;
        }

        return cumulative;
    }

    internal sealed class Row(double[] numeric, string?[] categorical, string label)
    {
        public double[] Numeric { get; } = numeric;

        public string?[] Categorical { get; } = categorical;

        public string? Label { get; set; } = label;

        public bool NaNIsValue { get; set; }
    }
}
