using System.Buffers;
using System.Text;

namespace Ctm.Data.Parsing;

/// <summary>
/// Writes canonical CSV (see <see cref="CsvTableWriter"/>) one field at a time, so a batch of any size is written
/// without holding its rows: UTF-8 without BOM, LF line ends, fields quoted only when they must be, an empty field
/// for a missing value — except a row whose one field is missing, which is written <c>""</c>, because readers
/// (this project's among them) skip a blank line, and the row would be lost.
/// </summary>
public sealed class CsvRowWriter : IDisposable
{
    private static readonly SearchValues<char> NeedsQuoting = SearchValues.Create(",\"\r\n");
    private readonly StreamWriter _writer;
    private bool _rowStarted;
    private bool _onlyFieldEmpty; // the row so far is one empty field

    /// <summary>Writes to <paramref name="stream"/>, which is left open.</summary>
    public CsvRowWriter(Stream stream) =>
        _writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };

    /// <summary>Writes one field of the current row; an empty span is a missing value.</summary>
    public void WriteField(ReadOnlySpan<char> cell)
    {
        if (_rowStarted)
        {
            _writer.Write(',');
        }

        _onlyFieldEmpty = !_rowStarted && cell.IsEmpty;
        _rowStarted = true;
        if (cell.IndexOfAny(NeedsQuoting) < 0)
        {
            _writer.Write(cell);
            return;
        }

        _writer.Write('"');
        while (true)
        {
            var quote = cell.IndexOf('"');
            if (quote < 0)
            {
                _writer.Write(cell);
                break;
            }

            _writer.Write(cell[..(quote + 1)]);
            _writer.Write('"');
            cell = cell[(quote + 1)..];
        }

        _writer.Write('"');
    }

    /// <summary>Ends the current row.</summary>
    public void EndRow()
    {
        if (_onlyFieldEmpty)
        {
            _writer.Write("\"\"");
        }

        _writer.Write('\n');
        _rowStarted = false;
        _onlyFieldEmpty = false;
    }

    /// <summary>Writes a whole row; <c>null</c> is a missing value.</summary>
    public void WriteRow(IReadOnlyList<string?> cells)
    {
        ArgumentNullException.ThrowIfNull(cells);
        for (var i = 0; i < cells.Count; i++)
        {
            WriteField(cells[i]);
        }

        EndRow();
    }

    /// <summary>Flushes what is buffered to the stream.</summary>
    public void Flush() => _writer.Flush();

    /// <inheritdoc />
    public void Dispose() => _writer.Dispose();
}
