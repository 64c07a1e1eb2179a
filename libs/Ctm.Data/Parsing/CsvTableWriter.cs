namespace Ctm.Data.Parsing;

/// <summary>
/// Writes a <see cref="TabularBatch"/> as canonical CSV: UTF-8 without BOM, LF line ends, a header row,
/// fields quoted only when they must be. The same batch always produces the same bytes, so its SHA-256
/// identifies its content. <see cref="CsvRowWriter"/> writes the same bytes one row at a time.
/// </summary>
public static class CsvTableWriter
{
    /// <summary>Writes <paramref name="batch"/> to <paramref name="stream"/> (left open).</summary>
    public static void Write(TabularBatch batch, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var writer = new CsvRowWriter(stream);
        writer.WriteRow(batch.Columns);
        foreach (var row in batch.Rows)
        {
            writer.WriteRow(row);
        }
    }

    /// <summary>The canonical CSV bytes of <paramref name="batch"/>.</summary>
    public static byte[] ToBytes(TabularBatch batch)
    {
        using var buffer = new MemoryStream();
        Write(batch, buffer);
        return buffer.ToArray();
    }
}
