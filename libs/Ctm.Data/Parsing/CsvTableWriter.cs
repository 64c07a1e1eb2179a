using System.Buffers;
using System.Text;

namespace Ctm.Data.Parsing;

/// <summary>
/// Writes a <see cref="TabularBatch"/> as canonical CSV: UTF-8 without BOM, LF line ends, a header row,
/// fields quoted only when they must be. The same batch always produces the same bytes, so its SHA-256
/// identifies its content.
/// </summary>
public static class CsvTableWriter
{
    private static readonly SearchValues<char> NeedsQuoting = SearchValues.Create(",\"\r\n");

    /// <summary>Writes <paramref name="batch"/> to <paramref name="stream"/> (left open).</summary>
    public static void Write(TabularBatch batch, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        WriteRow(writer, batch.Columns);
        foreach (var row in batch.Rows)
        {
            WriteRow(writer, row);
        }
    }

    /// <summary>The canonical CSV bytes of <paramref name="batch"/>.</summary>
    public static byte[] ToBytes(TabularBatch batch)
    {
        using var buffer = new MemoryStream();
        Write(batch, buffer);
        return buffer.ToArray();
    }

    private static void WriteRow(StreamWriter writer, IReadOnlyList<string?> cells)
    {
        for (var i = 0; i < cells.Count; i++)
        {
            if (i > 0)
            {
                writer.Write(',');
            }

            var cell = cells[i];
            if (cell is null)
            {
                continue;
            }

            if (cell.AsSpan().IndexOfAny(NeedsQuoting) < 0)
            {
                writer.Write(cell);
            }
            else
            {
                writer.Write('"');
                writer.Write(cell.Replace("\"", "\"\"", StringComparison.Ordinal));
                writer.Write('"');
            }
        }

        writer.Write('\n');
    }
}
