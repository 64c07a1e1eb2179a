using Ctm.Onnx;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Ctm.Predictor.Inference;

/// <summary>
/// Decoded instances, row-major by cell kind: every row holds <see cref="ModelSignature.NumberWidth"/> numbers,
/// <see cref="ModelSignature.IntegerWidth"/> integers and <see cref="ModelSignature.TextWidth"/> strings, plus the
/// caller's example key (raw JSON) if the instance had one. The same decoding feeds the lookup table, the cache and
/// ONNX Runtime, so the static and dynamic paths see identical values.
/// </summary>
public sealed class RowBlock
{
    /// <summary>The instance field that carries an example key (TF Serving instances; an OIP input of this name).</summary>
    public const string KeyField = "key";

    public RowBlock(ModelSignature signature, int capacity)
    {
        Signature = signature;
        Capacity = capacity;
        Numbers = signature.NumberWidth == 0 ? [] : new double[capacity * signature.NumberWidth];
        Integers = signature.IntegerWidth == 0 ? [] : new long[capacity * signature.IntegerWidth];
        Texts = signature.TextWidth == 0 ? [] : new string[capacity * signature.TextWidth];
    }

    public ModelSignature Signature { get; }
    public int Capacity { get; }
    public int Count { get; private set; }
    public double[] Numbers { get; }
    public long[] Integers { get; }
    public string[] Texts { get; }

    /// <summary>Raw JSON of each row's key, or null when no row has one.</summary>
    public string?[]? Keys { get; private set; }

    public bool HasKeys => Keys is not null;

    /// <summary>Starts a new row (cells are then set by the caller); returns its index.</summary>
    public int AddEmptyRow() => Count < Capacity ? Count++ : throw new InvalidOperationException("the block is full");

    public void SetKey(int row, string? rawJson)
    {
        if (rawJson is null)
        {
            return;
        }

        Keys ??= new string?[Capacity];
        Keys[row] = rawJson;
    }

    /// <summary>Decodes one TF Serving instance (an object keyed by input name; an array for a single matrix input) into a new row.</summary>
    /// <exception cref="PredictionInputException">The instance does not fit; nothing is added.</exception>
    public void AddInstance(JsonElement instance, int index)
    {
        var signature = Signature;
        var row = Count;
        if (row >= Capacity)
        {
            throw new InvalidOperationException("the block is full");
        }

        string? key = null;
        if (signature.IsMatrix && (signature.Inputs[0].Fields is null || instance.ValueKind == JsonValueKind.Array))
        {
            var input = signature.Inputs[0];
            var values = instance;
            if (instance.ValueKind == JsonValueKind.Object)
            {
                if (instance.TryGetProperty(KeyField, out var k))
                {
                    key = k.GetRawText();
                }

                if (!instance.TryGetProperty(input.Name, out values))
                {
                    throw new PredictionInputException($"instance {index} is missing the input '{input.Name}' ({input.Node})");
                }
            }

            if (values.ValueKind != JsonValueKind.Array || values.GetArrayLength() != input.Width)
            {
                throw new PredictionInputException($"instance {index} must be an array of {input.Width} values for the input '{input.Name}' ({input.Node})");
            }

            var c = 0;
            foreach (var value in values.EnumerateArray())
            {
                SetCell(input, row, c++, value, index);
            }
        }
        else
        {
            if (instance.ValueKind != JsonValueKind.Object)
            {
                throw new PredictionInputException($"instance {index} must be a JSON object keyed by feature name ({string.Join(", ", signature.Inputs.Select(x => x.Name))})");
            }

            if (TryAddInOrder(instance, row, index, out key))
            {
                Count++;
                SetKey(row, key);
                return;
            }

            foreach (var input in signature.Inputs)
            {
                if (input.Fields is { } fields)
                {
                    for (var c = 0; c < fields.Length; c++)
                    {
                        if (!instance.TryGetProperty(fields[c], out var field))
                        {
                            throw new PredictionInputException($"instance {index} is missing the feature '{fields[c]}' (input '{input.Name}'); send null for a missing value");
                        }

                        SetCell(input, row, c, field, index);
                    }

                    continue;
                }

                if (!instance.TryGetProperty(input.Name, out var value))
                {
                    throw new PredictionInputException($"instance {index} is missing the feature '{input.Name}' ({input.Type}); send null for a missing value");
                }

                if (input.Width == 1)
                {
                    if (value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 1)
                    {
                        value = value[0];
                    }

                    SetCell(input, row, 0, value, index);
                }
                else
                {
                    if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() != input.Width)
                    {
                        throw new PredictionInputException($"feature '{input.Name}' of instance {index} must be an array of {input.Width} values");
                    }

                    var c = 0;
                    foreach (var v in value.EnumerateArray())
                    {
                        SetCell(input, row, c++, v, index);
                    }
                }
            }

            if (instance.TryGetProperty(KeyField, out var k) && !signature.Inputs.Any(i => i.Name == KeyField))
            {
                key = k.GetRawText();
            }
        }

        Count++;
        SetKey(row, key);
    }

    /// <summary>
    /// The common case at one pass: every field present, in the model's column order (an optional <c>key</c> anywhere),
    /// plain values. Looking each field up by name instead scans the object once per field, which for 32 features cost
    /// more than the rest of the row's decoding. False (row untouched as far as the caller cares: every cell is set again)
    /// when the instance is anything else; the general path then decides and names the problem.
    /// </summary>
    private bool TryAddInOrder(JsonElement instance, int row, int index, out string? key)
    {
        key = null;
        var columns = Signature.Columns;
        if (columns.Length == 0)
        {
            return false;
        }

        var next = 0;
        foreach (var property in instance.EnumerateObject())
        {
            if (next < columns.Length && property.NameEquals(columns[next].Utf8Name) && property.Value.ValueKind != JsonValueKind.Array)
            {
                SetCell(columns[next].Input, row, columns[next].Offset, property.Value, index);
                next++;
            }
            else if (key is null && property.NameEquals("key"u8) && !Signature.HasKeyInput)
            {
                key = property.Value.GetRawText();
            }
            else
            {
                return false;
            }
        }

        return next == columns.Length;
    }

    /// <summary>
    /// The common online request in one pass over its bytes, without a parsed document: <c>{"instances":[{…}]}</c> with
    /// exactly one instance whose fields are every column in the model's order, each a plain number (numeric and integer
    /// columns; null for a missing number) or a string (text columns; null for the empty string). Null for anything else
    /// (several instances, a key, other request fields, another order, a value this pass does not decode, invalid JSON):
    /// the general path then reads the request and decides, or names the problem. A row decoded here holds exactly what
    /// <see cref="AddInstance"/> would put in it.
    /// </summary>
    public static RowBlock? TryReadSingleInstance(ModelSignature signature, ReadOnlySpan<byte> json)
    {
        var columns = signature.Columns;
        if (columns.Length == 0 || (signature.IsMatrix && signature.Inputs[0].Fields is null))
        {
            return null;
        }

        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject
                || !reader.Read() || reader.TokenType != JsonTokenType.PropertyName || !reader.ValueTextEquals("instances"u8)
                || !reader.Read() || reader.TokenType != JsonTokenType.StartArray
                || !reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            var block = new RowBlock(signature, 1);
            foreach (var column in columns)
            {
                if (!reader.Read() || reader.TokenType != JsonTokenType.PropertyName || reader.ValueIsEscaped || !reader.ValueSpan.SequenceEqual(column.Utf8Name)
                    || !reader.Read() || !block.TrySetCell(column.Input, column.Offset, ref reader))
                {
                    return null;
                }
            }

            if (!reader.Read() || reader.TokenType != JsonTokenType.EndObject
                || !reader.Read() || reader.TokenType != JsonTokenType.EndArray
                || !reader.Read() || reader.TokenType != JsonTokenType.EndObject
                || reader.Read())
            {
                return null;
            }

            block.Count = 1;
            return block;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // Row 0 from the reader's current value, decoded as SetCell decodes the same JSON value; false when this pass leaves it to SetCell.
    private bool TrySetCell(InputSpec input, int offset, ref Utf8JsonReader reader)
    {
        switch (input.Kind)
        {
            case CellKind.Number when input.Type is TensorElementType.Float or TensorElementType.Double:
                double number;
                if (reader.TokenType == JsonTokenType.Null)
                {
                    number = double.NaN;
                }
                else if (reader.TokenType != JsonTokenType.Number || !(TryParseShortDecimal(reader.ValueSpan, out number) || reader.TryGetDouble(out number)))
                {
                    return false;
                }

                Numbers[input.Slot + offset] = input.Type == TensorElementType.Float ? (float)number : number;
                return true;
            case CellKind.Integer:
                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var integer)
                    || (input.Type == TensorElementType.Int32 && integer is < int.MinValue or > int.MaxValue))
                {
                    return false;
                }

                Integers[input.Slot + offset] = integer;
                return true;
            case CellKind.Text:
                if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.Null))
                {
                    return false;
                }

                Texts[input.Slot + offset] = reader.TokenType == JsonTokenType.Null ? string.Empty : reader.GetString() ?? string.Empty;
                return true;
            default:
                return false;
        }
    }

    private static readonly double[] PowersOfTen = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

    /// <summary>
    /// A JSON number without an exponent and with at most 15 digits (<c>-12.5</c>, <c>0.1234</c>: what clients send) as the
    /// correctly rounded double, the value any exact parser gives: the digits as an integer below 2^53 and a power of ten
    /// up to 10^22 are both exact doubles, so their quotient is rounded once (the classic fast path of decimal parsing).
    /// About a third of the general parser's time; false for anything else, which the general parser then reads.
    /// </summary>
    public static bool TryParseShortDecimal(ReadOnlySpan<byte> text, out double value)
    {
        value = 0;
        var i = 0;
        var negative = text.Length > 0 && text[0] == (byte)'-';
        if (negative)
        {
            i++;
        }

        long mantissa = 0;
        var digits = 0;
        var fraction = -1;
        for (; i < text.Length; i++)
        {
            var c = text[i];
            if (c is >= (byte)'0' and <= (byte)'9')
            {
                if (++digits > 15)
                {
                    return false;
                }

                mantissa = (mantissa * 10) + (c - '0');
                if (fraction >= 0)
                {
                    fraction++;
                }
            }
            else if (c == (byte)'.' && fraction < 0)
            {
                fraction = 0;
            }
            else
            {
                return false;
            }
        }

        if (digits == 0)
        {
            return false;
        }

        var magnitude = fraction > 0 ? mantissa / PowersOfTen[fraction] : mantissa;
        value = negative ? -magnitude : magnitude;
        return true;
    }

    /// <summary>Sets cell <paramref name="offset"/> of <paramref name="input"/> in <paramref name="row"/> from a JSON value.</summary>
    public void SetCell(InputSpec input, int row, int offset, JsonElement value, int index)
    {
        var s = Signature;
        switch (input.Kind)
        {
            case CellKind.Number:
                Numbers[(row * s.NumberWidth) + input.Slot + offset] = input.Type switch
                {
                    TensorElementType.Bool => Boolean(value, input, offset, index) ? 1 : 0,
                    TensorElementType.Float => (float)Number(value, input, offset, index),
                    _ => Number(value, input, offset, index),
                };
                break;
            case CellKind.Integer:
                var integer = Integer(value, input, offset, index);
                if (input.Type == TensorElementType.Int32 && integer is < int.MinValue or > int.MaxValue)
                {
                    throw new PredictionInputException($"feature '{Feature(input, offset)}' of instance {index} does not fit in int32: {integer}");
                }

                Integers[(row * s.IntegerWidth) + input.Slot + offset] = integer;
                break;
            default:
                Texts[(row * s.TextWidth) + input.Slot + offset] = Text(value, input, offset, index);
                break;
        }
    }

    public double Number(int row, InputSpec input, int offset = 0) => Numbers[(row * Signature.NumberWidth) + input.Slot + offset];

    public long Integer(int row, InputSpec input, int offset = 0) => Integers[(row * Signature.IntegerWidth) + input.Slot + offset];

    public string Text(int row, InputSpec input, int offset = 0) => Texts[(row * Signature.TextWidth) + input.Slot + offset];

    /// <summary>An exact, unambiguous text of a row's inputs: the hot-key cache's key (the cache is per version).</summary>
    public string CanonicalKey(int row)
    {
        var s = Signature;
        var length = (s.NumberWidth * 4) + (s.IntegerWidth * 4);
        for (var t = 0; t < s.TextWidth; t++)
        {
            length += 2 + Texts[(row * s.TextWidth) + t].Length;
        }

        return string.Create(length, (this, row), static (span, state) =>
        {
            var (block, r) = state;
            var sig = block.Signature;
            var p = 0;
            foreach (var n in block.Numbers.AsSpan(r * sig.NumberWidth, sig.NumberWidth))
            {
                p = WriteBits(span, p, BitConverter.DoubleToInt64Bits(n));
            }

            foreach (var i in block.Integers.AsSpan(r * sig.IntegerWidth, sig.IntegerWidth))
            {
                p = WriteBits(span, p, i);
            }

            foreach (var t in block.Texts.AsSpan(r * sig.TextWidth, sig.TextWidth))
            {
                span[p++] = (char)(t.Length >> 16);
                span[p++] = (char)(t.Length & 0xFFFF);
                t.AsSpan().CopyTo(span[p..]);
                p += t.Length;
            }
        });
    }

    private static int WriteBits(Span<char> span, int p, long bits)
    {
        span[p++] = (char)(bits & 0xFFFF);
        span[p++] = (char)((bits >> 16) & 0xFFFF);
        span[p++] = (char)((bits >> 32) & 0xFFFF);
        span[p++] = (char)((bits >> 48) & 0xFFFF);
        return p;
    }

    private static double Number(JsonElement cell, InputSpec input, int offset, int index) => cell.ValueKind switch
    {
        JsonValueKind.Null => double.NaN, // missing: the model's own imputation decides
        JsonValueKind.Number => cell.GetDouble(),
        JsonValueKind.String when double.TryParse(cell.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        JsonValueKind.True => 1,
        JsonValueKind.False => 0,
        _ => throw new PredictionInputException($"feature '{Feature(input, offset)}' of instance {index} must be a number, got {Shorten(cell)}"),
    };

    private static long Integer(JsonElement cell, InputSpec input, int offset, int index) => cell.ValueKind switch
    {
        JsonValueKind.Number when cell.TryGetInt64(out var l) => l,
        JsonValueKind.String when long.TryParse(cell.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) => l,
        _ => throw new PredictionInputException($"feature '{Feature(input, offset)}' of instance {index} must be an integer, got {Shorten(cell)}"),
    };

    private static bool Boolean(JsonElement cell, InputSpec input, int offset, int index) => cell.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw new PredictionInputException($"feature '{Feature(input, offset)}' of instance {index} must be true or false, got {Shorten(cell)}"),
    };

    /// <summary>Strings as they are; numbers and booleans as their JSON text; null = the empty string (missing).</summary>
    private static string Text(JsonElement cell, InputSpec input, int offset, int index) => cell.ValueKind switch
    {
        JsonValueKind.Null => string.Empty,
        JsonValueKind.String => cell.GetString() ?? string.Empty,
        JsonValueKind.Object or JsonValueKind.Array => throw new PredictionInputException($"feature '{Feature(input, offset)}' of instance {index} must be a string, got {Shorten(cell)}"),
        _ => cell.GetRawText(),
    };

    /// <summary>The instance field a column comes from: a feature name, also for a packed or mapped input.</summary>
    private static string Feature(InputSpec input, int offset) => input.Fields is null && input.Width > 1 ? input.Name : input.FieldName(offset);

    private static string Shorten(JsonElement cell)
    {
        var text = cell.GetRawText();
        return text.Length <= 60 ? text : new StringBuilder(text, 0, 57, 60).Append("...").ToString();
    }
}
