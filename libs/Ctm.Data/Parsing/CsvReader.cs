using System.Buffers;
using System.Text;

namespace Ctm.Data.Parsing;

/// <summary>
/// A streaming RFC 4180 CSV reader with a mandatory header row. Memory is bounded by the longest
/// record, not by the file. Every error is a <see cref="TabularFormatException"/> naming line and column:
/// an empty input, a blank or duplicate header name, a ragged row, a quote inside an unquoted field,
/// text after a closing quote, an unterminated quoted field, bytes that are not UTF-8.
/// Blank lines are skipped; CRLF, LF and CR line ends are accepted.
/// </summary>
public sealed class CsvReader : IDisposable
{
    private readonly TextReader _reader;
    private readonly char _delimiter;
    private readonly SearchValues<char> _unquotedStops;
    private static readonly SearchValues<char> QuotedStops = SearchValues.Create("\"\n");

    private readonly char[] _buffer;
    private int _pos;
    private int _len;
    private long _discarded; // characters dropped from the buffer before the current one
    private bool _eof;

    private long _line = 1;
    private long _lineStart; // absolute character offset where the current line starts

    private char[] _record = new char[256];
    private int _recordLength;
    private int[] _fieldStart = new int[16];
    private int[] _fieldLength = new int[16];
    private int[] _fieldColumn = new int[16];
    private int _fieldCount;
    private int _recordEndColumn;

    /// <summary>Opens a reader over <paramref name="stream"/> (UTF-8, BOM allowed) and reads the header row.</summary>
    /// <param name="stream">The CSV bytes; disposed with the reader.</param>
    /// <param name="source">A name for the input used in error messages (file or upload name).</param>
    /// <param name="delimiter">The field delimiter.</param>
    public CsvReader(Stream stream, string? source = null, char delimiter = ',')
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (delimiter is '"' or '\r' or '\n')
        {
            throw new ArgumentException("The delimiter cannot be a quote or a line break.", nameof(delimiter));
        }

        SourceName = source;
        _delimiter = delimiter;
        _unquotedStops = SearchValues.Create([delimiter, '"', '\r', '\n']);
        _reader = new StreamReader(stream, new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
        _buffer = new char[1 << 16];

        if (!ReadRecord())
        {
            throw new TabularFormatException("the input is empty: expected a header row naming the columns", source, 1, 1);
        }

        var header = new string[_fieldCount];
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < _fieldCount; i++)
        {
            var name = GetField(i).Trim().ToString();
            if (name.Length == 0)
            {
                throw new TabularFormatException($"header field {i + 1} is blank: every column needs a name", source, RecordLine, _fieldColumn[i]);
            }

            if (!seen.TryAdd(name, i))
            {
                throw new TabularFormatException($"duplicate column name '{name}' (also column {seen[name] + 1} of the header)", source, RecordLine, _fieldColumn[i], name);
            }

            header[i] = name;
        }

        Header = header;
        HeaderLine = RecordLine;
    }

    /// <summary>The column names from the header row, trimmed.</summary>
    public IReadOnlyList<string> Header { get; }

    /// <summary>The line the header was on.</summary>
    public long HeaderLine { get; }

    /// <summary>The input's name, as given to the constructor.</summary>
    public string? SourceName { get; }

    /// <summary>The 1-based line on which the current record starts.</summary>
    public long RecordLine { get; private set; }

    /// <summary>Number of data records read so far.</summary>
    public long RecordCount { get; private set; }

    /// <summary>Number of fields in the current record (always the header's count after a successful <see cref="Read"/>).</summary>
    public int FieldCount => _fieldCount;

    /// <summary>Advances to the next data record. Returns false at the end of the input.</summary>
    public bool Read()
    {
        if (!ReadRecord())
        {
            return false;
        }

        if (_fieldCount != Header.Count)
        {
            var column = _fieldCount > Header.Count ? _fieldColumn[Header.Count] : _recordEndColumn;
            throw new TabularFormatException(
                $"expected {Header.Count} fields as in the header, found {_fieldCount}",
                SourceName, RecordLine, column);
        }

        RecordCount++;
        return true;
    }

    /// <summary>The text of field <paramref name="index"/> of the current record, unquoted. Valid until the next <see cref="Read"/>.</summary>
    public ReadOnlySpan<char> GetField(int index)
    {
        if ((uint)index >= (uint)_fieldCount)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"the record has {_fieldCount} fields");
        }

        return _record.AsSpan(_fieldStart[index], _fieldLength[index]);
    }

    /// <summary>The text of field <paramref name="index"/> as a string.</summary>
    public string GetString(int index) => GetField(index).ToString();

    /// <summary>The 1-based column where field <paramref name="index"/> of the current record starts (for error messages).</summary>
    public int GetFieldColumn(int index) => _fieldColumn[index];

    /// <summary>An error located at field <paramref name="index"/> of the current record.</summary>
    public TabularFormatException ErrorAt(int index, string problem) =>
        new(problem, SourceName, RecordLine, _fieldColumn[index], Header[index]);

    /// <inheritdoc />
    public void Dispose() => _reader.Dispose();

    private int Column => (int)(_discarded + _pos - _lineStart + 1);

    private bool EnsureData()
    {
        if (_pos < _len)
        {
            return true;
        }

        if (_eof)
        {
            return false;
        }

        _discarded += _len;
        _pos = 0;
        try
        {
            _len = _reader.Read(_buffer, 0, _buffer.Length);
        }
        catch (DecoderFallbackException e)
        {
            throw new TabularFormatException("the input is not valid UTF-8 text", SourceName, _line, Column, inner: e);
        }

        if (_len == 0)
        {
            _eof = true;
            return false;
        }

        return true;
    }

    private void NewLine()
    {
        _line++;
        _lineStart = _discarded + _pos;
    }

    private bool ReadRecord()
    {
        _recordLength = 0;
        _fieldCount = 0;

        // Skip blank lines between records.
        while (true)
        {
            if (!EnsureData())
            {
                return false;
            }

            var c = _buffer[_pos];
            if (c == '\n')
            {
                _pos++;
                NewLine();
            }
            else if (c == '\r')
            {
                _pos++;
                if (EnsureData() && _buffer[_pos] == '\n')
                {
                    _pos++;
                }

                NewLine();
            }
            else
            {
                break;
            }
        }

        RecordLine = _line;
        while (true)
        {
            var start = _recordLength;
            var column = Column;
            if (EnsureData() && _buffer[_pos] == '"')
            {
                ReadQuotedField(column);
            }
            else
            {
                ReadUnquotedField();
            }

            AddField(start, column);
            if (!EnsureData())
            {
                _recordEndColumn = Column;
                return true;
            }

            var c = _buffer[_pos];
            if (c == _delimiter)
            {
                _pos++;
                continue;
            }

            _recordEndColumn = Column;
            _pos++;
            if (c == '\r' && EnsureData() && _buffer[_pos] == '\n')
            {
                _pos++;
            }

            NewLine();
            return true;
        }
    }

    private void ReadUnquotedField()
    {
        while (EnsureData())
        {
            var span = _buffer.AsSpan(_pos, _len - _pos);
            var stop = span.IndexOfAny(_unquotedStops);
            if (stop < 0)
            {
                Append(span);
                _pos = _len;
                continue;
            }

            Append(span[..stop]);
            _pos += stop;
            if (_buffer[_pos] == '"')
            {
                throw new TabularFormatException(
                    "a quote inside an unquoted field: quote the whole field and double the quote (\"\")",
                    SourceName, _line, Column, FieldName(_fieldCount));
            }

            return;
        }
    }

    private void ReadQuotedField(int openColumn)
    {
        var openLine = _line;
        _pos++; // the opening quote
        while (true)
        {
            if (!EnsureData())
            {
                throw new TabularFormatException(
                    "a quoted field is never closed: the input ends inside it",
                    SourceName, openLine, openColumn, FieldName(_fieldCount));
            }

            var span = _buffer.AsSpan(_pos, _len - _pos);
            var stop = span.IndexOfAny(QuotedStops);
            if (stop < 0)
            {
                Append(span);
                _pos = _len;
                continue;
            }

            Append(span[..stop]);
            _pos += stop;
            if (_buffer[_pos] == '\n')
            {
                Append("\n");
                _pos++;
                NewLine();
                continue;
            }

            _pos++; // a quote: either the closing one or the first of a doubled pair
            if (EnsureData() && _buffer[_pos] == '"')
            {
                Append("\"");
                _pos++;
                continue;
            }

            break;
        }

        if (EnsureData())
        {
            var next = _buffer[_pos];
            if (next != _delimiter && next != '\r' && next != '\n')
            {
                throw new TabularFormatException(
                    $"unexpected '{next}' after the closing quote of a field: expected '{_delimiter}' or the end of the line",
                    SourceName, _line, Column, FieldName(_fieldCount));
            }
        }
    }

    private string? FieldName(int index) => Header is not null && index < Header.Count ? Header[index] : null;

    private void Append(ReadOnlySpan<char> text)
    {
        if (_recordLength + text.Length > _record.Length)
        {
            Array.Resize(ref _record, Math.Max(_record.Length * 2, _recordLength + text.Length));
        }

        text.CopyTo(_record.AsSpan(_recordLength));
        _recordLength += text.Length;
    }

    private void AddField(int start, int column)
    {
        if (_fieldCount == _fieldStart.Length)
        {
            Array.Resize(ref _fieldStart, _fieldCount * 2);
            Array.Resize(ref _fieldLength, _fieldCount * 2);
            Array.Resize(ref _fieldColumn, _fieldCount * 2);
        }

        _fieldStart[_fieldCount] = start;
        _fieldLength[_fieldCount] = _recordLength - start;
        _fieldColumn[_fieldCount] = column;
        _fieldCount++;
    }
}
