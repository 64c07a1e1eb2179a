using System.Buffers;
using System.Text.Unicode;

namespace Ctm.Data.Parsing;

/// <summary>
/// A streaming RFC 4180 CSV reader with a mandatory header row. Memory is bounded by the longest
/// record, not by the file. Every error is a <see cref="TabularFormatException"/> naming line and column:
/// an empty input, a blank or duplicate header name, a ragged row, a quote inside an unquoted field,
/// text after a closing quote, an unterminated quoted field, bytes that are not UTF-8 (at the character where they
/// start), a NUL character, and anything beyond its <see cref="TabularLimits"/>.
/// Blank lines are skipped; CRLF, LF and CR line ends are accepted.
/// </summary>
public sealed class CsvReader : IDisposable
{
    private readonly Stream _stream;
    private readonly TabularLimits _limits;
    private readonly char _delimiter;
    private readonly SearchValues<char> _unquotedStops;
    private static readonly SearchValues<char> QuotedStops = SearchValues.Create("\"\n\0");

    // Bytes are decoded here rather than by a StreamReader, so that bytes that are not UTF-8 are reported where
    // they are, not where the reader happened to be when a block of 64K characters failed to decode.
    private readonly byte[] _bytes = new byte[1 << 16];
    private int _byteStart;
    private int _byteEnd;
    private bool _streamEnded;
    private bool _bomChecked;
    private int _invalidByte = -1; // the first byte that is not UTF-8, once the decoder reached it

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
    private int _currentFieldStart;
    private int _currentFieldColumn;
    private long _currentFieldLine;

    /// <summary>Opens a reader over <paramref name="stream"/> (UTF-8, BOM allowed) and reads the header row.</summary>
    /// <param name="stream">The CSV bytes; disposed with the reader.</param>
    /// <param name="source">A name for the input used in error messages (file or upload name).</param>
    /// <param name="delimiter">The field delimiter.</param>
    public CsvReader(Stream stream, string? source = null, char delimiter = ',')
        : this(stream, source, TabularLimits.None, delimiter)
    {
    }

    /// <summary>Opens a reader that refuses input beyond <paramref name="limits"/>, and reads the header row.</summary>
    /// <param name="stream">The CSV bytes; disposed with the reader.</param>
    /// <param name="source">A name for the input used in error messages (file or upload name).</param>
    /// <param name="limits">The bounds on fields, columns, rows and records.</param>
    /// <param name="delimiter">The field delimiter.</param>
    public CsvReader(Stream stream, string? source, TabularLimits limits, char delimiter = ',')
    {
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(stream);
        if (delimiter is '"' or '\r' or '\n')
        {
            throw new ArgumentException("The delimiter cannot be a quote or a line break.", nameof(delimiter));
        }

        SourceName = source;
        _delimiter = delimiter;
        _unquotedStops = SearchValues.Create([delimiter, '"', '\r', '\n', '\0']);
        _stream = stream;
        _limits = limits;
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

        if (RecordCount >= _limits.MaxRows)
        {
            throw new TabularFormatException(
                $"more than {_limits.MaxRows} data rows", SourceName, RecordLine, 1, limit: nameof(TabularLimits.MaxRows));
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
    public void Dispose() => _stream.Dispose();

    private int Column => (int)(_discarded + _pos - _lineStart + 1);

    private bool EnsureData()
    {
        if (_pos < _len)
        {
            return true;
        }

        if (_invalidByte >= 0)
        {
            throw NotUtf8();
        }

        if (_eof)
        {
            return false;
        }

        _discarded += _len;
        _pos = 0;
        _len = Decode();
        if (_len == 0)
        {
            if (_invalidByte >= 0)
            {
                throw NotUtf8();
            }

            _eof = true;
            return false;
        }

        return true;
    }

    private TabularFormatException NotUtf8() =>
        new($"the input is not valid UTF-8 text (byte 0x{_invalidByte:X2} here)", SourceName, _line, Column);

    /// <summary>Decodes the next characters into the buffer; stops before the first byte that is not UTF-8.</summary>
    private int Decode()
    {
        while (true)
        {
            if (!_streamEnded && _byteEnd - _byteStart < _bytes.Length / 2)
            {
                Array.Copy(_bytes, _byteStart, _bytes, 0, _byteEnd - _byteStart);
                _byteEnd -= _byteStart;
                _byteStart = 0;
                var read = _stream.Read(_bytes, _byteEnd, _bytes.Length - _byteEnd);
                if (read == 0)
                {
                    _streamEnded = true;
                }

                _byteEnd += read;
            }

            if (!_bomChecked)
            {
                if (_byteEnd - _byteStart < 3 && !_streamEnded)
                {
                    continue;
                }

                _bomChecked = true;
                if (_bytes.AsSpan(_byteStart, _byteEnd - _byteStart).StartsWith("\uFEFF"u8))
                {
                    _byteStart += 3;
                }
            }

            var status = Utf8.ToUtf16(
                _bytes.AsSpan(_byteStart, _byteEnd - _byteStart), _buffer, out var consumed, out var written, replaceInvalidSequences: false, isFinalBlock: _streamEnded);
            _byteStart += consumed;
            if (status == OperationStatus.InvalidData)
            {
                _invalidByte = _bytes[_byteStart];
                return written;
            }

            if (written > 0 || _streamEnded)
            {
                return written;
            }
        }
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
            _currentFieldStart = start;
            _currentFieldColumn = column;
            _currentFieldLine = _line;
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
            if (!AppendUntil(_unquotedStops))
            {
                continue;
            }

            if (_buffer[_pos] == '"')
            {
                throw new TabularFormatException(
                    "a quote inside an unquoted field: quote the whole field and double the quote (\"\")",
                    SourceName, _line, Column, FieldName(_fieldCount));
            }

            return;
        }
    }

    /// <summary>
    /// Appends the buffered text up to the first of <paramref name="stops"/> and moves to it. False when the buffer ran
    /// out first (all of it appended: read more and call again). A NUL is refused wherever it stands.
    /// </summary>
    private bool AppendUntil(SearchValues<char> stops)
    {
        var span = _buffer.AsSpan(_pos, _len - _pos);
        var stop = span.IndexOfAny(stops);
        if (stop < 0)
        {
            Append(span);
            _pos = _len;
            return false;
        }

        Append(span[..stop]);
        _pos += stop;
        if (_buffer[_pos] == '\0')
        {
            throw RefusedCharacter();
        }

        return true;
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

            if (!AppendUntil(QuotedStops))
            {
                continue;
            }

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

    private TabularFormatException RefusedCharacter() =>
        new(StoredText.Describe("\0", 0), SourceName, _line, Column, FieldName(_fieldCount));

    private void Append(ReadOnlySpan<char> text)
    {
        if (_recordLength + text.Length - _currentFieldStart > _limits.MaxFieldChars)
        {
            throw new TabularFormatException(
                $"a field longer than {_limits.MaxFieldChars} characters", SourceName, _currentFieldLine, _currentFieldColumn, FieldName(_fieldCount),
                limit: nameof(TabularLimits.MaxFieldChars));
        }

        if (_recordLength + text.Length > _limits.MaxRecordChars)
        {
            throw new TabularFormatException(
                $"a record longer than {_limits.MaxRecordChars} characters", SourceName, RecordLine, 1, limit: nameof(TabularLimits.MaxRecordChars));
        }

        if (_recordLength + text.Length > _record.Length)
        {
            Array.Resize(ref _record, Math.Max(_record.Length * 2, _recordLength + text.Length));
        }

        text.CopyTo(_record.AsSpan(_recordLength));
        _recordLength += text.Length;
    }

    private void AddField(int start, int column)
    {
        if (_fieldCount >= _limits.MaxColumns)
        {
            throw new TabularFormatException(
                $"more than {_limits.MaxColumns} columns", SourceName, RecordLine, column, limit: nameof(TabularLimits.MaxColumns));
        }

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
