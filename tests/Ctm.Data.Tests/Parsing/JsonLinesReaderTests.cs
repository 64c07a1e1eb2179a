using System.Text;
using Ctm.Data.Parsing;

namespace Ctm.Data.Tests.Parsing;

public sealed class JsonLinesReaderTests
{
    [Fact]
    public void Read_ObjectsWithDifferentKeys_GiveTheUnionOfColumnsInFirstSeenOrder()
    {
        var batch = Read("{\"a\":1,\"b\":\"x\"}\n\n{\"c\":true,\"a\":2.50}\r\n{\"b\":null}\n");

        Assert.Equal(["a", "b", "c"], batch.Columns);
        Assert.Equal(new string?[] { "1", "x", null }, batch.Rows[0]);
        Assert.Equal(new string?[] { "2.50", null, "true" }, batch.Rows[1]);
        Assert.Equal(new string?[] { null, null, null }, batch.Rows[2]);
    }

    [Theory]
    [InlineData("", 1, "empty")]
    [InlineData("{\"a\":1}\n[1,2]\n", 2, "expected a JSON object, found an array")]
    [InlineData("{\"a\":1}\n{\"a\":{\"b\":1}}\n", 2, "only strings, numbers, booleans and null")]
    [InlineData("{\"a\":1,\"a\":2}\n", 1, "appears twice")]
    [InlineData("{\"a\":1} {\"b\":2}\n", 1, "after a single JSON value")]
    [InlineData("{\"a\":1}\n{\"a\":tru}\n", 2, "invalid JSON")]
    public void Read_MalformedLine_NamesTheLine(string text, long line, string problem)
    {
        var e = Assert.Throws<TabularFormatException>(() => Read(text));

        Assert.Equal(line, e.Line);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_NestedValue_NamesTheFieldAndColumn()
    {
        var e = Assert.Throws<TabularFormatException>(() => Read("{\"id\":1,\"tags\":[1]}\n"));

        Assert.Equal("tags", e.Field);
        Assert.Equal(16, e.Column);
    }

    private static TabularBatch Read(string text) => JsonLinesReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(text)), "rows.jsonl");
}
