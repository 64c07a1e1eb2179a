using System.Text;
using Ctm.Data.Parsing;

namespace Ctm.Data.Tests.Parsing;

public sealed class CsvReaderTests
{
    [Fact]
    public void Read_QuotedFieldsWithDelimitersQuotesAndNewlines_AreUnquoted()
    {
        var batch = Read("a,b,c\n\"x,1\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n4,,6\n");

        Assert.Equal(["a", "b", "c"], batch.Columns);
        Assert.Equal(new string?[] { "x,1", "say \"hi\"", "two\nlines" }, batch.Rows[0]);
        Assert.Equal(new string?[] { "4", null, "6" }, batch.Rows[1]);
    }

    [Fact]
    public void Read_BlankLinesAndMissingFinalNewline_AreAccepted()
    {
        var batch = Read("a,b\n\n1,2\n\r\n3,4");

        Assert.Equal(2, batch.Rows.Count);
        Assert.Equal(new string?[] { "3", "4" }, batch.Rows[1]);
    }

    [Fact]
    public void Read_ByteOrderMark_IsNotPartOfTheFirstColumnName()
    {
        var bytes = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes("id,v\n1,2\n")).ToArray();
        var batch = TabularBatch.ReadCsv(new MemoryStream(bytes));

        Assert.Equal("id", batch.Columns[0]);
    }

    [Fact]
    public void Read_RecordLongerThanTheBuffer_IsReadWhole()
    {
        var big = new string('x', 200_000);
        var batch = Read($"a,b\n{big},\"{big}\"\n");

        Assert.Equal(big, batch.Rows[0][0]);
        Assert.Equal(big, batch.Rows[0][1]);
    }

    [Fact]
    public void Read_RowsAfterAMultilineField_ReportTheirRealLine()
    {
        var e = Assert.Throws<TabularFormatException>(() => Read("a,b\n\"1\n2\n3\",x\n4\n"));

        Assert.Equal(5, e.Line);
        Assert.Contains("expected 2 fields as in the header, found 1", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", 1, 1, "empty")]
    [InlineData("\n\n", 1, 1, "empty")]
    [InlineData("a,,c\n1,2,3\n", 1, 3, "header field 2 is blank")]
    [InlineData("a,b,a\n1,2,3\n", 1, 5, "duplicate column name 'a'")]
    [InlineData("a,b,c\n1,2\n", 2, 4, "expected 3 fields as in the header, found 2")]
    [InlineData("a,b,c\n1,2,3,4\n", 2, 7, "expected 3 fields as in the header, found 4")]
    [InlineData("a,b\n1,x\"y\n", 2, 4, "a quote inside an unquoted field")]
    [InlineData("a,b\n1,\"xy\"z\n", 2, 7, "unexpected 'z' after the closing quote")]
    [InlineData("a,b\n1,\"never closed\n2,3\n", 2, 3, "never closed")]
    public void Read_MalformedInput_NamesLineAndColumn(string csv, long line, int column, string problem)
    {
        var e = Assert.Throws<TabularFormatException>(() => Read(csv, "upload.csv"));

        Assert.Equal(line, e.Line);
        Assert.Equal(column, e.Column);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
        Assert.StartsWith($"upload.csv: line {line}, column {column}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_ErrorInsideAKnownColumn_NamesTheField()
    {
        var e = Assert.Throws<TabularFormatException>(() => Read("id,name\n1,ab\"c\n"));

        Assert.Equal("name", e.Field);
    }

    [Fact]
    public void Read_InvalidUtf8_IsAnErrorNotAReplacementCharacter()
    {
        var bytes = Encoding.UTF8.GetBytes("a,b\n1,").Concat(new byte[] { 0xC3, 0x28 }).Concat(Encoding.UTF8.GetBytes("\n")).ToArray();

        var e = Assert.Throws<TabularFormatException>(() => TabularBatch.ReadCsv(new MemoryStream(bytes)));

        Assert.Contains("not valid UTF-8", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Writer_RoundTripsThroughTheReader_AndIsCanonical()
    {
        var batch = new TabularBatch(["a", "b"], [["x,y", "q\"uote"], [null, "line\nbreak"], ["plain", ""]]);

        var bytes = CsvTableWriter.ToBytes(batch);
        var again = TabularBatch.ReadCsv(new MemoryStream(bytes));

        Assert.Equal("a,b\n\"x,y\",\"q\"\"uote\"\n,\"line\nbreak\"\nplain,\n", Encoding.UTF8.GetString(bytes));
        Assert.Equal(batch.Rows[0], again.Rows[0]);
        Assert.Equal(batch.Rows[1], again.Rows[1]);
        Assert.Equal(bytes, CsvTableWriter.ToBytes(again));
    }

    [Fact]
    public void Writer_OneColumnRowWithAMissingValue_IsNotLostAsABlankLine()
    {
        // Found by the fuzz run: an empty line is skipped on reading, so a one-field row must be written "".
        var batch = new TabularBatch(["label"], [["yes"], [null], ["no"]]);

        var bytes = CsvTableWriter.ToBytes(batch);
        var again = TabularBatch.ReadCsv(new MemoryStream(bytes));

        Assert.Equal("label\nyes\n\"\"\nno\n", Encoding.UTF8.GetString(bytes));
        Assert.Equal(3, again.Rows.Count);
        Assert.Null(again.Rows[1][0]);
    }

    private static TabularBatch Read(string csv, string? source = null) =>
        TabularBatch.ReadCsv(new MemoryStream(Encoding.UTF8.GetBytes(csv)), source);
}
