using System.Globalization;
using System.Text;
using Ctm.Data.Parsing;
using Ctm.Data.Schema;
using Ctm.Data.Statistics;

namespace Ctm.Data.Tests.Statistics;

/// <summary>Parsing and statistics on two threads, and the small-domain counter, give exactly the one-thread result.</summary>
public sealed class PipelineTests
{
    // Enough rows for many blocks, a long field that outgrows a block, and a column whose domain overflows the small counter.
    private static string Csv(int rows)
    {
        var random = new Random(7);
        var csv = new StringBuilder("x,c,id,text\n");
        for (var i = 0; i < rows; i++)
        {
            var x = random.NextDouble() < 0.02 ? "" : (random.NextDouble() * 100).ToString("0.###", CultureInfo.InvariantCulture);
            var c = "abcdef"[random.Next(6)].ToString();
            var text = i == rows / 2 ? new string('z', 300_000) : "t" + (i % 3);
            csv.Append(CultureInfo.InvariantCulture, $"{x},{c},id{i % 500},{text}\n");
        }

        return csv.ToString();
    }

    private static BatchStatistics Compute(string csv, DataSchema? schema, bool pipelined)
    {
        using var reader = new CsvReader(new MemoryStream(Encoding.UTF8.GetBytes(csv)), "pipeline.csv");
        return BatchStatistics.Compute(reader, schema, "c", pipelined);
    }

    [Fact]
    public void Compute_Pipelined_EqualsOneThread_WithAndWithoutSchema()
    {
        var csv = Csv(20_000);
        var inferred = Compute(csv, null, pipelined: false);
        var schema = DataSchema.Infer(inferred, "c");

        Assert.Equal(inferred.ToJson(), Compute(csv, null, pipelined: true).ToJson());
        Assert.Equal(Compute(csv, schema, pipelined: false).ToJson(), Compute(csv, schema, pipelined: true).ToJson());
        Assert.Equal(20_000, inferred.RowCount);
        Assert.Equal(500, inferred.Column("id")!.Categorical!.DistinctCount);
        Assert.Equal(4, inferred.Column("text")!.Categorical!.DistinctCount);
    }

    [Fact]
    public void Compute_Pipelined_MalformedRecord_ThrowsTheReadersError()
    {
        var csv = Csv(10_000) + "1,a\n";

        var error = Assert.Throws<TabularFormatException>(() => Compute(csv, null, pipelined: true));

        Assert.Contains("line 10002", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_DomainOverflowingTheSmallCounter_CountsEqualOneByOneCounting()
    {
        var builder = new StatisticsBuilder(["c"], new DataSchema { Columns = [new ColumnSchema { Name = "c", Type = ColumnType.Categorical }] });
        var expected = new CategoricalStatistics();
        var random = new Random(3);
        for (var i = 0; i < 5_000; i++)
        {
            // 20 frequent values first, then a long tail: the counter overflows mid-stream.
            var value = i < 1_000 ? $"v{random.Next(20)}" : $"v{random.Next(200)}";
            builder.Add(0, value);
            builder.EndRow();
            expected.Add(value);
        }

        var actual = builder.Build().Column("c")!.Categorical!;

        Assert.Equal(expected.Count, actual.Count);
        Assert.Equal(expected.Counts.OrderBy(p => p.Key, StringComparer.Ordinal), actual.Counts.OrderBy(p => p.Key, StringComparer.Ordinal));
    }
}
