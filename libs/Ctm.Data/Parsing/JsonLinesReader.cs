using System.Text;
using System.Text.Json;

namespace Ctm.Data.Parsing;

/// <summary>
/// Reads JSON Lines: one JSON object per line whose values are scalars (string, number, boolean, null).
/// The columns are the union of the keys in order of first appearance; a key absent from a line is a
/// missing value. Errors name line, column and field: invalid JSON, a line that is not an object,
/// a nested object or array, a key repeated within a line, no rows at all.
/// </summary>
public static class JsonLinesReader
{
    /// <summary>Reads the whole input.</summary>
    public static TabularBatch Read(Stream stream, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        var bytes = buffer.GetBuffer().AsSpan(0, (int)buffer.Length);
        if (bytes.StartsWith("\uFEFF"u8))
        {
            bytes = bytes[3..];
        }

        var columns = new List<string>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var parsed = new List<Dictionary<int, string?>>();
        long line = 0;
        while (!bytes.IsEmpty)
        {
            line++;
            var end = bytes.IndexOf((byte)'\n');
            var text = end < 0 ? bytes : bytes[..end];
            bytes = end < 0 ? [] : bytes[(end + 1)..];
            if (text.Length > 0 && text[^1] == '\r')
            {
                text = text[..^1];
            }

            if (text.Trim(" \t"u8).IsEmpty)
            {
                continue;
            }

            parsed.Add(ParseLine(text, line, source, columns, index));
        }

        if (parsed.Count == 0)
        {
            throw new TabularFormatException("the input is empty: expected one JSON object per line", source, 1, 1);
        }

        var rows = new List<string?[]>(parsed.Count);
        foreach (var cells in parsed)
        {
            var row = new string?[columns.Count];
            foreach (var (column, value) in cells)
            {
                row[column] = value;
            }

            rows.Add(row);
        }

        return new TabularBatch(columns, rows);
    }

    /// <summary>Converts one parsed JSON object (e.g. a row event from the bus) to cells keyed by column name.</summary>
    public static Dictionary<string, string?> ReadObject(JsonElement element, string? source = null, long line = 1)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new TabularFormatException($"expected a JSON object, found {Describe(element.ValueKind)}", source, line, 1);
        }

        var cells = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            if (!cells.TryAdd(property.Name, ScalarText(property.Value, source, line, property.Name)))
            {
                throw new TabularFormatException($"the key '{property.Name}' appears twice in one row", source, line, 1, property.Name);
            }
        }

        return cells;
    }

    private static Dictionary<int, string?> ParseLine(ReadOnlySpan<byte> text, long line, string? source, List<string> columns, Dictionary<string, int> index)
    {
        var reader = new Utf8JsonReader(text, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
        var cells = new Dictionary<int, string?>();
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new TabularFormatException($"expected a JSON object, found {Describe(reader.TokenType)}", source, line, Column(text, reader.TokenStartIndex));
            }

            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                var name = reader.GetString()!;
                var nameColumn = Column(text, reader.TokenStartIndex);
                reader.Read();
                string? value = reader.TokenType switch
                {
                    JsonTokenType.String => reader.GetString(),
                    JsonTokenType.Number => NumberText(reader),
                    JsonTokenType.True => "true",
                    JsonTokenType.False => "false",
                    JsonTokenType.Null => null,
                    _ => throw new TabularFormatException(
                        $"the value is {Describe(reader.TokenType)}: only strings, numbers, booleans and null are allowed",
                        source, line, Column(text, reader.TokenStartIndex), name),
                };
                if (!index.TryGetValue(name, out var column))
                {
                    column = columns.Count;
                    columns.Add(name);
                    index.Add(name, column);
                }

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
}
