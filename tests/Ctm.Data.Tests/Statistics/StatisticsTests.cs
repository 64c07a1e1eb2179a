using System.Text;
using Ctm.Data.Parsing;
using Ctm.Data.Schema;
using Ctm.Data.Statistics;
using Ctm.Data.Tests.Support;

namespace Ctm.Data.Tests.Statistics;

public sealed class StatisticsTests
{
    [Fact]
    public void Build_NumericCells_CountsMissingZerosNonFiniteAndMoments()
    {
        var builder = new StatisticsBuilder(["x"]);
        string[] cells = ["1", "2", "", "0", "NaN", "inf", "-3.5", "4e2", " 7 "];
        foreach (var cell in cells)
        {
            builder.Add(0, cell);
            builder.EndRow();
        }

        var stats = builder.Build();
        var x = stats.Column("x")!;
        var n = x.Numeric!;
        double[] finite = [1, 2, 0, -3.5, 400, 7];

        Assert.Equal(ColumnType.Numeric, x.Type);
        Assert.Equal(9, stats.RowCount);
        Assert.Equal(1, x.Missing);
        Assert.Equal(6, n.Count);
        Assert.Equal(1, n.Zeros);
        Assert.Equal(1, n.NaN);
        Assert.Equal(1, n.Infinity);
        Assert.Equal(finite.Average(), n.Mean, 12);
        Assert.Equal(Math.Sqrt(finite.Select(v => (v - finite.Average()) * (v - finite.Average())).Average()), n.StandardDeviation, 12);
        Assert.Equal(-3.5, n.Min);
        Assert.Equal(400, n.Max);
        Assert.Equal(10, n.Histogram(10).Count);
        Assert.Equal(6, n.Histogram(10).Sum(b => b.Count));
    }

    [Fact]
    public void Build_TextCells_InferredCategoricalWithExactCounts()
    {
        var builder = new StatisticsBuilder(["c"]);
        foreach (var cell in new[] { "a", "b", "a", "", "1", "a" })
        {
            builder.Add(0, cell);
            builder.EndRow();
        }

        var c = builder.Build().Column("c")!;

        Assert.Equal(ColumnType.Categorical, c.Type);
        Assert.Null(c.Numeric);
        Assert.Equal(1, c.Missing);
        Assert.Equal(3, c.Categorical!.DistinctCount);
        Assert.Equal(new KeyValuePair<string, long>("a", 3), c.Categorical.Top(1)[0]);
    }

    [Fact]
    public void Categorical_ManyDistinctValues_EstimatesDistinctAndKeepsHeavyHittersWithinBound()
    {
        var stats = new CategoricalStatistics(capacity: 100);
        var random = new Random(3);
        const int n = 200_000;
        for (var i = 0; i < n; i++)
        {
            // 30% "hot", the rest spread over 50,000 identifiers.
            stats.Add(random.NextDouble() < 0.3 ? "hot" : $"id{random.Next(50_000)}");
        }

        Assert.False(stats.IsExact);
        Assert.InRange(stats.DistinctCount, 50_001 * 0.95, 50_001 * 1.05);
        Assert.True(stats.MaxUndercount <= n / 101);
        Assert.Equal("hot", stats.Top(1)[0].Key);
        Assert.InRange(stats.CountOf("hot"), (n * 0.3 * 0.98) - stats.MaxUndercount, n * 0.3 * 1.02);
    }

    [Fact]
    public void Merge_FourBatches_EqualsStatisticsOfTheConcatenatedRows()
    {
        var data = new SyntheticData();
        var merged = BatchStatistics.Merge(Enumerable.Range(0, 4).Select(i => data.Batch(new Random(100 + i), 1000)));
        var builder = new StatisticsBuilder(SyntheticData.Columns, SyntheticData.TypeSchema);
        for (var i = 0; i < 4; i++)
        {
            data.AddRows(builder, new Random(100 + i), 1000);
        }

        var whole = builder.Build();

        Assert.Equal(4000, merged.RowCount);
        Assert.Equal(4, merged.BatchCount);
        Assert.Equal(1000, merged.BatchRowCountMean);
        foreach (var expected in whole.Columns)
        {
            var actual = merged.Column(expected.Name)!;
            Assert.Equal(expected.Missing, actual.Missing);
            if (expected.Numeric is { } e)
            {
                var a = actual.Numeric!;
                Assert.Equal(e.Count, a.Count);
                Assert.Equal(e.Zeros, a.Zeros);
                Assert.Equal(e.Mean, a.Mean, 9);
                Assert.Equal(e.StandardDeviation, a.StandardDeviation, 9);
                Assert.Equal(e.Min, a.Min);
                Assert.Equal(e.Max, a.Max);
                // Shared buckets make merged sketches identical to the sketch of the concatenation (no added error).
                Assert.Equal(e.Sketch.Buckets(), a.Sketch.Buckets());
            }
            else
            {
                Assert.Equal(expected.Categorical!.Counts.OrderBy(p => p.Key), actual.Categorical!.Counts.OrderBy(p => p.Key));
            }
        }
    }

    [Fact]
    public void Merge_QuantilesOfMergedBatches_MatchExactQuantilesOfAllValues()
    {
        var random = new Random(8);
        var values = new List<double>();
        var parts = new List<BatchStatistics>();
        for (var b = 0; b < 5; b++)
        {
            var builder = new StatisticsBuilder(["x"]);
            for (var i = 0; i < 2000; i++)
            {
                var v = Math.Exp(SyntheticData.Normal(random)) + b;
                values.Add(v);
                builder.Add(0, v);
                builder.EndRow();
            }

            parts.Add(builder.Build());
        }

        var merged = BatchStatistics.Merge(parts).Column("x")!.Numeric!;
        values.Sort();
        foreach (var q in new[] { 0.01, 0.1, 0.5, 0.9, 0.99 })
        {
            var exact = values[(int)Math.Floor(q * (values.Count - 1))];
            Assert.InRange(merged.Quantile(q), exact * (1 - QuantileSketch.RelativeAccuracy), exact * (1 + QuantileSketch.RelativeAccuracy));
        }
    }

    [Fact]
    public void Json_RoundTrip_PreservesStatistics()
    {
        var stats = new SyntheticData().Batch(new Random(9), 2000);
        var json = stats.ToJson();
        var copy = BatchStatistics.FromJson(json);

        Assert.Equal(json, copy.ToJson());
        Assert.Equal(stats.Column("x02")!.Numeric!.Quantile(0.9), copy.Column("x02")!.Numeric!.Quantile(0.9));
        Assert.Equal(stats.Label!.Categorical!.CountOf("yes"), copy.Label!.Categorical!.CountOf("yes"));
    }

    [Fact]
    public void Compute_CsvReader_MatchesCellByCellBuilder()
    {
        const string csv = "x,c,label\n1.5,a,yes\n,b,no\n-2,a,\n3e1,,no\n";
        using var reader = new CsvReader(new MemoryStream(Encoding.UTF8.GetBytes(csv)), "test.csv");
        var stats = BatchStatistics.Compute(reader, labelColumn: "label");

        Assert.Equal(4, stats.RowCount);
        Assert.Equal(ColumnType.Numeric, stats.Column("x")!.Type);
        Assert.Equal(1, stats.Column("x")!.Missing);
        Assert.Equal(29.5 / 3, stats.Column("x")!.Numeric!.Mean, 12);
        Assert.Equal(2, stats.Column("c")!.Categorical!.CountOf("a"));
        Assert.Equal(1, stats.Label!.Missing);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-0.5")]
    [InlineData("123456.789")]
    [InlineData("1e-7")]
    [InlineData("6.02214076E23")]
    [InlineData("+3.25")]
    [InlineData("0.1")]
    [InlineData("179769313486231570000000000000000000000000000000000000000000")]
    [InlineData(".5")]
    public void NumberParser_Decimals_SameAsTheFrameworkParser(string text)
    {
        Assert.True(NumberParser.TryParse(text, out var value));
        Assert.Equal(double.Parse(text, System.Globalization.CultureInfo.InvariantCulture), value);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("1.2.3")]
    [InlineData("12e")]
    [InlineData("-")]
    [InlineData("1,5")]
    public void NumberParser_NotANumber_ReturnsFalse(string text) => Assert.False(NumberParser.TryParse(text, out _));
}
