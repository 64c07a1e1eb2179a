using System.Security.Cryptography;
using Ctm.Data.Parsing;

namespace Ctm.Ingest.Batches;

/// <summary>
/// A batch as it is stored: canonical CSV (<see cref="CsvRowWriter"/>) in a seekable stream, a file for uploads, with its
/// SHA-256, size, columns and row count. Uploads are checked and rewritten row by row from the spooled request, so
/// memory stays bounded by the limits whatever the size of the upload.
/// </summary>
public sealed class CanonicalContent : IAsyncDisposable
{
    private CanonicalContent(Stream content, IReadOnlyList<string> columns, long rows)
    {
        Content = content;
        Columns = columns;
        RowCount = rows;
        ByteCount = content.Length;
        content.Position = 0;
        Sha256 = Convert.ToHexStringLower(SHA256.HashData(content));
        content.Position = 0;
    }

    public Stream Content { get; }
    public IReadOnlyList<string> Columns { get; }
    public long RowCount { get; }
    public long ByteCount { get; }
    public string Sha256 { get; }

    /// <summary>A small batch already in memory (row events).</summary>
    public static CanonicalContent FromBatch(TabularBatch batch)
    {
        var buffer = new MemoryStream();
        CsvTableWriter.Write(batch, buffer);
        return new CanonicalContent(buffer, batch.Columns, batch.Rows.Count);
    }

    /// <summary>Reads an upload (<paramref name="format"/> csv or jsonl) from <paramref name="raw"/> (seekable), refusing what crosses <paramref name="limits"/>.</summary>
    /// <exception cref="TabularFormatException">The upload is malformed or too large, with where.</exception>
    public static CanonicalContent FromUpload(Stream raw, string format, string source, TabularLimits limits, string directory)
    {
        var file = Spool.CreateFile(directory);
        try
        {
            using (var writer = new CsvRowWriter(file))
            {
                if (format == "csv")
                {
                    using var reader = new CsvReader(new NonClosing(raw), source, limits);
                    writer.WriteRow(reader.Header);
                    while (reader.Read())
                    {
                        for (var i = 0; i < reader.FieldCount; i++)
                        {
                            writer.WriteField(reader.GetField(i));
                        }

                        writer.EndRow();
                    }

                    return new CanonicalContent(Flushed(writer, file), reader.Header, reader.RecordCount);
                }

                var (columns, rows) = JsonLinesReader.Scan(raw, source, limits);
                raw.Position = 0;
                writer.WriteRow(columns);
                JsonLinesReader.ReadRows(raw, source, limits, columns, writer.WriteRow);
                return new CanonicalContent(Flushed(writer, file), columns, rows);
            }
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public ValueTask DisposeAsync() => Content.DisposeAsync();

    private static Stream Flushed(CsvRowWriter writer, Stream file)
    {
        writer.Flush();
        return file;
    }

    /// <summary>Lets the CSV reader dispose what it reads without closing the spooled upload.</summary>
    private sealed class NonClosing(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override int Read(Span<byte> buffer) => inner.Read(buffer);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
