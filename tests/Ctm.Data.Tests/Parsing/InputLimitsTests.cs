using System.Text;
using Ctm.Data.Parsing;

namespace Ctm.Data.Tests.Parsing;

/// <summary>What the edge refuses, and where it says the problem is: limits, NUL, bytes that are not UTF-8.</summary>
public sealed class InputLimitsTests
{
    private static readonly TabularLimits Small = new() { MaxFieldChars = 10, MaxColumns = 3, MaxRows = 2, MaxRecordChars = 40 };

    [Fact]
    public void Csv_InvalidUtf8OnLineTwo_IsReportedAtItsLineAndColumn()
    {
        var bytes = Encoding.UTF8.GetBytes("a,b\n12,x").Concat(new byte[] { 0xC3, 0x28 }).Concat(Encoding.UTF8.GetBytes("\n")).ToArray();

        var e = Assert.Throws<TabularFormatException>(() => ReadCsv(bytes, TabularLimits.None));

        Assert.Equal(2, e.Line);
        Assert.Equal(5, e.Column);
        Assert.Contains("0xC3", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Csv_InvalidUtf8FarBeyondTheFirstBlock_IsReportedAtItsLine()
    {
        var text = new StringBuilder("a,b\n");
        for (var i = 0; i < 20_000; i++)
        {
            text.Append(i).Append(",x\n");
        }

        var bytes = Encoding.UTF8.GetBytes(text.ToString()).Concat(new byte[] { 0x31, 0x2C, 0xFF, 0x0A }).ToArray();

        var e = Assert.Throws<TabularFormatException>(() => ReadCsv(bytes, TabularLimits.None));

        Assert.Equal(20_002, e.Line);
        Assert.Equal(3, e.Column);
    }

    [Theory]
    [InlineData("a,b\n1,x\0y\n", 2, 4)]
    [InlineData("a,b\n1,\"x\0\"\n", 2, 5)]
    [InlineData("a,\0\n1,2\n", 1, 3)]
    public void Csv_NulCharacter_IsRefusedWithItsPosition(string csv, long line, int column)
    {
        var e = Assert.Throws<TabularFormatException>(() => ReadCsv(Encoding.UTF8.GetBytes(csv), TabularLimits.None));

        Assert.Equal((line, column), (e.Line, e.Column));
        Assert.Contains("NUL", e.Message, StringComparison.Ordinal);
        Assert.Null(e.Limit);
    }

    [Theory]
    [InlineData("a,b\n1,12345678901\n", "MaxFieldChars", 2, 3)]
    [InlineData("a,b,c,d\n1,2,3,4\n", "MaxColumns", 1, 7)]
    [InlineData("a,b\n1,2\n3,4\n5,6\n", "MaxRows", 4, 1)]
    [InlineData("a,b\n1234567890,1234567890\n", null, 0, 0)]
    public void Csv_BeyondALimit_IsRefusedNamingTheLimitAndThePosition(string csv, string? limit, long line, int column)
    {
        if (limit is null)
        {
            Assert.Single(ReadCsv(Encoding.UTF8.GetBytes(csv), Small).Rows);
            return;
        }

        var e = Assert.Throws<TabularFormatException>(() => ReadCsv(Encoding.UTF8.GetBytes(csv), Small));

        Assert.Equal(limit, e.Limit);
        Assert.Equal((line, column), (e.Line, e.Column));
    }

    [Fact]
    public void Csv_FieldOfTenMegabytes_IsRefusedBeforeItIsHeld()
    {
        var stream = new RepeatingStream("a,b\n1,"u8.ToArray(), (byte)'x', 10 * 1024 * 1024);

        var e = Assert.Throws<TabularFormatException>(() =>
        {
            using var reader = new CsvReader(stream, "big.csv", new TabularLimits());
            while (reader.Read())
            {
            }
        });

        Assert.Equal(nameof(TabularLimits.MaxFieldChars), e.Limit);
        Assert.Equal((2L, 3), (e.Line, e.Column));
        Assert.True(stream.Position < 1024 * 1024, $"read {stream.Position} bytes before refusing");
    }

    [Theory]
    [InlineData("{\"a\":\"x\\u0000y\"}\n", 1, 6, null)]
    [InlineData("{\"a\":1}\n{\"a\":\"\\ud800\"}\n", 2, 6, null)]
    [InlineData("{\"a\":\"12345678901\"}\n", 1, 6, "MaxFieldChars")]
    [InlineData("{\"a\":1,\"b\":2}\n{\"c\":3,\"d\":4}\n", 2, 8, "MaxColumns")]
    [InlineData("{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n", 3, 1, "MaxRows")]
    [InlineData("{\"a\":\"123456789\",\"b\":\"123456789\",\"c\":\"123456789\"}\n", 1, 1, "MaxRecordChars")]
    public void JsonLines_RefusedText_IsReportedWithItsPosition(string jsonl, long line, int column, string? limit)
    {
        var e = Assert.Throws<TabularFormatException>(() => JsonLinesReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(jsonl)), "in.jsonl", Small));

        Assert.Equal((line, column), (e.Line, e.Column));
        Assert.Equal(limit, e.Limit);
    }

    [Fact]
    public void JsonLines_InvalidUtf8OnLineTwo_IsReportedAtItsLineAndColumn()
    {
        var bytes = Encoding.UTF8.GetBytes("{\"a\":\"x\"}\n{\"a\":\"").Concat(new byte[] { 0xE2, 0x28, 0xA1 }).Concat(Encoding.UTF8.GetBytes("\"}\n")).ToArray();

        var e = Assert.Throws<TabularFormatException>(() => JsonLinesReader.Read(new MemoryStream(bytes)));

        Assert.Equal((2L, 7), (e.Line, e.Column));
    }

    [Fact]
    public void JsonLines_ScanThenReadRows_GiveWhatReadGives()
    {
        var text = "{\"a\":1,\"b\":\"x\"}\n\n{\"c\":true,\"a\":2}\r\n{\"b\":null}";
        var whole = JsonLinesReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(text)));

        var (columns, count) = JsonLinesReader.Scan(new MemoryStream(Encoding.UTF8.GetBytes(text)), null, new TabularLimits());
        var rows = new List<string?[]>();
        JsonLinesReader.ReadRows(new MemoryStream(Encoding.UTF8.GetBytes(text)), null, new TabularLimits(), columns, r => rows.Add((string?[])r.Clone()));

        Assert.Equal(whole.Columns, columns);
        Assert.Equal(3, count);
        Assert.Equal(whole.Rows, rows);
    }

    [Fact]
    public void CsvRowWriter_WritesTheSameBytesAsTheTableWriter()
    {
        var batch = new TabularBatch(["a", "b"], [["x,1", null], ["say \"hi\"", "two\nlines"]]);
        using var streamed = new MemoryStream();
        using (var writer = new CsvRowWriter(streamed))
        {
            writer.WriteRow(batch.Columns);
            foreach (var row in batch.Rows)
            {
                writer.WriteRow(row);
            }
        }

        Assert.Equal(CsvTableWriter.ToBytes(batch), streamed.ToArray());
    }

    private static TabularBatch ReadCsv(byte[] bytes, TabularLimits limits)
    {
        using var reader = new CsvReader(new MemoryStream(bytes), "in.csv", limits);
        var rows = new List<string?[]>();
        while (reader.Read())
        {
            rows.Add([.. Enumerable.Range(0, reader.FieldCount).Select(reader.GetString)]);
        }

        return new TabularBatch(reader.Header, rows);
    }

    /// <summary>A prefix then one byte repeated: a huge input that is never held.</summary>
    private sealed class RepeatingStream(byte[] prefix, byte fill, long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => prefix.Length + length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, Length - _position);
            for (var i = 0; i < n; i++)
            {
                buffer[offset + i] = _position + i < prefix.Length ? prefix[_position + i] : fill;
            }

            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
