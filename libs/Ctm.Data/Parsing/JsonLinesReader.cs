using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Ctm.Data.Parsing;

/// <summary>
/// Reads JSON Lines: one JSON object per line whose values are scalars (string, number, boolean, null).
/// The columns are the union of the keys in order of first appearance; a key absent from a line is a
/// missing value. Errors name line, column and field: invalid JSON, bytes that are not UTF-8, a line that is not an
/// object, a nested object or array, a key repeated within a line, text PostgreSQL refuses (<see cref="StoredText"/>),
/// anything beyond the <see cref="TabularLimits"/>, no rows at all. Lines are read one at a time, so memory is bounded
/// by the longest line; <see cref="Scan"/> and <see cref="ReadRows"/> read an input of any size in two passes.
/// </summary>
public static class JsonLinesReader
{
    /// <summary>Reads the whole input into memory.</summary>
    public static TabularBatch Read(Stream stream, string? source = null) => Read(stream, source, TabularLimits.None);

    /// <summary>Reads the whole input into memory, refusing what crosses <paramref name="limits"/>.</summary>
    public static TabularBatch Read(Stream stream, string? source, TabularLimits limits)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(limits);
        var columns = new Columns(limits, source);
        var parsed = new List<Dictionary<int, string?>>();
        EachLine(stream, source, limits, (line, text) => parsed.Add(ParseLine(text, line, source, limits, columns, parsed.Count)));
        if (parsed.Count == 0)
        {
            throw new TabularFormatException("the input is empty: expected one JSON object per line", source, 1, 1);
        }

        var rows = new List<string?[]>(parsed.Count);
        foreach (var cells in parsed)
        {
            var row = new string?[columns.Names.Count];
            foreach (var (column, value) in cells)
            {
                row[column] = value;
            }

            rows.Add(row);
        }

        return new TabularBatch(columns.Names, rows);
    }

    /// <summary>
    /// The first of two passes over an input too large to hold: checks every line and returns the columns and the
    /// number of rows, holding one line at a time.
    /// </summary>
    public static (IReadOnlyList<string> Columns, long Rows) Scan(Stream stream, string? source, TabularLimits limits)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(limits);
        var columns = new Columns(limits, source);
        long rows = 0;
        EachLine(stream, source, limits, (line, text) =>
        {
            ParseLine(text, line, source, limits, columns, rows);
            rows++;
        });
        return rows == 0
            ? throw new TabularFormatException("the input is empty: expected one JSON object per line", source, 1, 1)
            : (columns.Names, rows);
    }

    /// <summary>
    /// The second pass: hands each row to <paramref name="row"/> as cells in the order of <paramref name="columns"/>
    /// (what <see cref="Scan"/> returned for the same bytes). The array is reused: copy what you keep.
    /// </summary>
    public static void ReadRows(Stream stream, string? source, TabularLimits limits, IReadOnlyList<string> columns, Action<string?[]> row)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(row);
        var known = new Columns(limits, source);
        foreach (var name in columns)
        {
            known.Add(name, 1, 1);
        }

        var cells = new string?[columns.Count];
        long rows = 0;
        EachLine(stream, source, limits, (line, text) =>
        {
            var parsed = ParseLine(text, line, source, limits, known, rows++);
            if (known.Names.Count != cells.Length)
            {
                throw new InvalidOperationException("the input changed between the two passes: a column appeared that Scan did not see");
            }

            Array.Clear(cells);
            foreach (var (column, value) in parsed)
            {
                cells[column] = value;
            }

            row(cells);
        });
    }

    /// <summary>Converts one parsed JSON object (e.g. a row event from the bus) to cells keyed by column name.</summary>
    public static Dictionary<string, string?> ReadObject(JsonElement element, string? source = null, long line = 1) =>
        ReadObject(element, source, line, TabularLimits.None);

    /// <summary>Converts one parsed JSON object to cells keyed by column name, refusing what crosses <paramref name="limits"/>.</summary>
    public static Dictionary<string, string?> ReadObject(JsonElement element, string? source, long line, TabularLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new TabularFormatException($"expected a JSON object, found {Describe(element.ValueKind)}", source, line, 1);
        }

        var cells = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            var name = Decoded(() => property.Name, source, line, null);
            CheckText(name, source, line, 1, name, limits);
            var value = Decoded(() => ScalarText(property.Value, source, line, name), source, line, name);
            if (value is not null)
            {
                CheckText(value, source, line, 1, name, limits);
            }

            if (!cells.TryAdd(name, value))
            {
                throw new TabularFormatException($"the key '{name}' appears twice in one row", source, line, 1, name);
            }

            if (cells.Count > limits.MaxColumns)
            {
                throw new TabularFormatException($"more than {limits.MaxColumns} columns", source, line, 1, name, limit: nameof(TabularLimits.MaxColumns));
            }
        }

        return cells;
    }

    /// <summary>Calls <paramref name="handle"/> with each non-blank line (without its line end), holding one line at a time.</summary>
    private static void EachLine(Stream stream, string? source, TabularLimits limits, Action<long, ReadOnlyMemory<byte>> handle)
    {
        var buffer = new byte[1 << 16];
        int start = 0, end = 0;
        long line = 0;
        var ended = false;
        var first = true;
        while (true)
        {
            var pending = buffer.AsSpan(start, end - start);
            var newline = pending.IndexOf((byte)'\n');
            if (newline >= 0 || (ended && !pending.IsEmpty))
            {
                var length = newline >= 0 ? newline : pending.Length;
                line++;
                var text = buffer.AsMemory(start, length);
                start += newline >= 0 ? newline + 1 : length;
                if (first)
                {
                    first = false;
                    if (text.Span.StartsWith("\uFEFF"u8))
                    {
                        text = text[3..];
                    }
                }

                if (!text.IsEmpty && text.Span[^1] == '\r')
                {
                    text = text[..^1];
                }

                if (text.Length > limits.MaxRecordChars)
                {
                    throw LineTooLong(source, line, limits);
                }

                if (!text.Span.Trim(" \t"u8).IsEmpty)
                {
                    handle(line, text);
                }

                continue;
            }

            if (ended)
            {
                return;
            }

            if (pending.Length > limits.MaxRecordChars)
            {
                throw LineTooLong(source, line + 1, limits);
            }

            if (start > 0)
            {
                pending.CopyTo(buffer);
                end -= start;
                start = 0;
            }

            if (end == buffer.Length)
            {
                Array.Resize(ref buffer, (int)Math.Min((long)buffer.Length * 2, Array.MaxLength));
            }

            var read = stream.Read(buffer, end, buffer.Length - end);
            if (read == 0)
            {
                ended = true;
            }

            end += read;
        }
    }

    private static TabularFormatException LineTooLong(string? source, long line, TabularLimits limits) =>
        new($"a line longer than {limits.MaxRecordChars} bytes", source, line, 1, limit: nameof(TabularLimits.MaxRecordChars));

    private static Dictionary<int, string?> ParseLine(ReadOnlyMemory<byte> memory, long line, string? source, TabularLimits limits, Columns columns, long rowsBefore)
    {
        var text = memory.Span;
        if (rowsBefore >= limits.MaxRows)
        {
            throw new TabularFormatException($"more than {limits.MaxRows} data rows", source, line, 1, limit: nameof(TabularLimits.MaxRows));
        }

        if (!Utf8.IsValid(text))
        {
            throw new TabularFormatException($"the line is not valid UTF-8 text (byte 0x{text[InvalidUtf8At(text)]:X2} here)", source, line, Column(text, InvalidUtf8At(text)));
        }

        var reader = new Utf8JsonReader(text, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = limits.MaxJsonDepth });
        var cells = new Dictionary<int, string?>();
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new TabularFormatException($"expected a JSON object, found {Describe(reader.TokenType)}", source, line, Column(text, reader.TokenStartIndex));
            }

            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                var nameColumn = Column(text, reader.TokenStartIndex);
                var name = Text(ref reader, source, line, nameColumn, null);
                CheckText(name, source, line, nameColumn, name, limits);
                reader.Read();
                var valueColumn = Column(text, reader.TokenStartIndex);
                string? value = reader.TokenType switch
                {
                    JsonTokenType.String => Text(ref reader, source, line, valueColumn, name),
                    JsonTokenType.Number => NumberText(reader),
                    JsonTokenType.True => "true",
                    JsonTokenType.False => "false",
                    JsonTokenType.Null => null,
                    _ => throw new TabularFormatException(
                        $"the value is {Describe(reader.TokenType)}: only strings, numbers, booleans and null are allowed",
                        source, line, valueColumn, name),
                };
                if (value is not null)
                {
                    CheckText(value, source, line, valueColumn, name, limits);
                }

                var column = columns.Add(name, line, nameColumn);
                if (!cells.TryAdd(column, value))
                {
                    throw new TabularFormatException($"the key '{name}' appears twice in one row", source, line, nameColumn, name);
                }
            }

            // Text after the object is caught by the reader itself ("invalid after a single JSON value").
            reader.Read();
        }
        catch (JsonException e)
        {
            throw new TabularFormatException($"invalid JSON: {FirstSentence(e.Message)}", source, line, (int)(e.BytePositionInLine ?? 0) + 1, inner: e);
        }

        return cells;
    }

    // JsonElement decodes its strings lazily: an escape such as \ud800 with no partner fails only when it is read.
    private static T Decoded<T>(Func<T> read, string? source, long line, string? field)
    {
        try
        {
            return read();
        }
        catch (InvalidOperationException e)
        {
            throw new TabularFormatException($"the string is not valid Unicode: {FirstSentence(e.Message)}", source, line, 1, field, e);
        }
    }

    private static string Text(ref Utf8JsonReader reader, string? source, long line, int column, string? field)
    {
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException e)
        {
            // An escape such as \ud800 with no partner: no character, and PostgreSQL would refuse it.
            throw new TabularFormatException($"the string is not valid Unicode: {FirstSentence(e.Message)}", source, line, column, field, e);
        }
    }

    private static void CheckText(string text, string? source, long line, int column, string? field, TabularLimits limits)
    {
        if (text.Length > limits.MaxFieldChars)
        {
            throw new TabularFormatException($"a field longer than {limits.MaxFieldChars} characters", source, line, column, field, limit: nameof(TabularLimits.MaxFieldChars));
        }

        var refused = StoredText.FindRefused(text);
        if (refused >= 0)
        {
            throw new TabularFormatException($"{StoredText.Describe(text, refused)} (character {refused + 1} of the string)", source, line, column, field);
        }
    }

    private static int InvalidUtf8At(ReadOnlySpan<byte> text)
    {
        var chars = ArrayPool<char>.Shared.Rent(text.Length);
        try
        {
            Utf8.ToUtf16(text, chars, out var read, out _, replaceInvalidSequences: false);
            return read;
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
        }
    }

    private static string? ScalarText(JsonElement value, string? source, long line, string name) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        _ => throw new TabularFormatException(
            $"the value is {Describe(value.ValueKind)}: only strings, numbers, booleans and null are allowed", source, line, 1, name),
    };

    private static string NumberText(Utf8JsonReader reader)
    {
        // Keep the number's own text (no float round trip) so the stored batch is exactly what was sent.
        var raw = reader.HasValueSequence ? System.Buffers.BuffersExtensions.ToArray(reader.ValueSequence) : reader.ValueSpan.ToArray();
        return Encoding.UTF8.GetString(raw);
    }

    private static int Column(ReadOnlySpan<byte> text, long byteIndex) =>
        Encoding.UTF8.GetCharCount(text[..(int)Math.Min(byteIndex, text.Length)]) + 1;

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" LineNumber", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd('.', ' ');
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartArray => "an array",
        JsonTokenType.StartObject => "an object",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => kind.ToString().ToLowerInvariant(),
    };

    /// <summary>The union of keys seen so far, bounded by <see cref="TabularLimits.MaxColumns"/>.</summary>
    private sealed class Columns(TabularLimits limits, string? source)
    {
        private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);

        public List<string> Names { get; } = [];

        public int Add(string name, long line, int column)
        {
            if (_index.TryGetValue(name, out var i))
            {
                return i;
            }

            if (Names.Count >= limits.MaxColumns)
            {
                throw new TabularFormatException($"more than {limits.MaxColumns} columns", source, line, column, name, limit: nameof(TabularLimits.MaxColumns));
            }

            _index.Add(name, Names.Count);
            Names.Add(name);
            return Names.Count - 1;
        }
    }
}
