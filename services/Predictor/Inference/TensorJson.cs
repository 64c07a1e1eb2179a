using System.Globalization;
using System.Text;
using System.Text.Json;
using Ctm.Onnx;

namespace Ctm.Predictor.Inference;

/// <summary>
/// Tensors as JSON, both ways, for every element type ONNX Runtime takes: the Open Inference Protocol's flattened
/// <c>data</c> with an explicit <c>shape</c>, and TF Serving's nested lists whose nesting is the shape.
/// </summary>
/// <remarks>
/// JSON has no NaN or infinity: such floats are written as the strings <c>"NaN"</c>, <c>"Infinity"</c>,
/// <c>"-Infinity"</c> (and read back from them). Float16 travels as a JSON number.
/// </remarks>
public static class TensorJson
{
    /// <summary>The element type of an Open Inference Protocol datatype name (FP32, INT64, BOOL, BYTES, …).</summary>
    /// <exception cref="PredictionInputException">The name is not one of the protocol's tensor datatypes.</exception>
    public static TensorElementType ParseDatatype(string? datatype, string name) => datatype switch
    {
        "FP32" => TensorElementType.Float,
        "FP64" => TensorElementType.Double,
        "FP16" => TensorElementType.Float16,
        "INT8" => TensorElementType.Int8,
        "INT16" => TensorElementType.Int16,
        "INT32" => TensorElementType.Int32,
        "INT64" => TensorElementType.Int64,
        "UINT8" => TensorElementType.UInt8,
        "UINT16" => TensorElementType.UInt16,
        "UINT32" => TensorElementType.UInt32,
        "UINT64" => TensorElementType.UInt64,
        "BOOL" => TensorElementType.Bool,
        "BYTES" => TensorElementType.String,
        _ => throw new PredictionInputException(
            $"input '{name}' has datatype {datatype ?? "(none)"}; the protocol's datatypes are BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64, BYTES"),
    };

    /// <summary>An Open Inference Protocol input tensor: its declared datatype and shape, and <c>data</c> flattened row-major (nested lists are flattened).</summary>
    /// <exception cref="PredictionInputException">The shape, datatype or data is malformed or does not agree.</exception>
    public static OrtTensor FromOip(JsonElement tensor, string name)
    {
        var type = ParseDatatype(tensor.TryGetProperty("datatype", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null, name);
        if (!tensor.TryGetProperty("shape", out var shapeJson) || shapeJson.ValueKind != JsonValueKind.Array)
        {
            throw new PredictionInputException($"input '{name}' has no 'shape' array");
        }

        var shape = new long[shapeJson.GetArrayLength()];
        var i = 0;
        foreach (var dim in shapeJson.EnumerateArray())
        {
            shape[i++] = dim.ValueKind == JsonValueKind.Number && dim.TryGetInt64(out var v) && v >= 0
                ? v
                : throw new PredictionInputException($"input '{name}' has shape {shapeJson.GetRawText()}: every dimension must be a non-negative integer");
        }

        if (tensor.TryGetProperty("parameters", out var parameters) && parameters.ValueKind == JsonValueKind.Object && parameters.TryGetProperty("binary_data_size", out _))
        {
            throw new PredictionInputException($"input '{name}' is sent as binary data (binary_data_size); this server takes tensors as JSON 'data' only");
        }

        if (!tensor.TryGetProperty("data", out var data))
        {
            throw new PredictionInputException($"input '{name}' has no 'data'");
        }

        var values = new List<JsonElement>();
        Flatten(data, values);
        long count = 1;
        foreach (var dim in shape)
        {
            count = checked(count * dim);
        }

        if (count != values.Count)
        {
            throw new PredictionInputException($"input '{name}' has shape {Format(shape)}, which holds {count} elements, but 'data' has {values.Count}");
        }

        return OrtTensor.FromArray(type, Convert(values, type, name), shape);
    }

    /// <summary>A TF Serving value: a scalar or nested lists whose nesting gives the shape; elements read as <paramref name="type"/>.</summary>
    /// <exception cref="PredictionInputException">The lists are ragged, or an element does not fit the type.</exception>
    public static OrtTensor FromNested(JsonElement value, TensorElementType type, string name)
    {
        var shape = new List<long>();
        ShapeOf(value, shape, name);
        var values = new List<JsonElement>();
        Flatten(value, values);
        return OrtTensor.FromArray(type, Convert(values, type, name), [.. shape]);
    }

    /// <summary>TF Serving's row form for one input: the instances' values stacked along a new first dimension.</summary>
    /// <exception cref="PredictionInputException">The instances' values differ in shape, or an element does not fit the type.</exception>
    public static OrtTensor Stack(IReadOnlyList<JsonElement> rows, TensorElementType type, string name)
    {
        List<long>? first = null;
        var values = new List<JsonElement>();
        for (var r = 0; r < rows.Count; r++)
        {
            var shape = new List<long>();
            ShapeOf(rows[r], shape, name);
            if (first is null)
            {
                first = shape;
            }
            else if (!first.SequenceEqual(shape))
            {
                throw new PredictionInputException(
                    $"input '{name}' of instance {r} has shape {Format([.. shape])}, instance 0 has {Format([.. first])}: every instance must give each input the same shape");
            }

            Flatten(rows[r], values);
        }

        long[] stacked = [rows.Count, .. first ?? []];
        return OrtTensor.FromArray(type, Convert(values, type, name), stacked);
    }

    /// <summary>Writes every element of <paramref name="tensor"/> as one flat JSON array (row-major).</summary>
    public static void WriteFlat(Utf8JsonWriter writer, OrtTensor tensor)
    {
        writer.WriteStartArray();
        var data = tensor.Data;
        for (var i = 0; i < data.Length; i++)
        {
            WriteElement(writer, data, i);
        }

        writer.WriteEndArray();
    }

    /// <summary>Writes <paramref name="tensor"/> as nested lists (a scalar as a plain value).</summary>
    public static void WriteNested(Utf8JsonWriter writer, OrtTensor tensor)
    {
        var index = 0;
        WriteNested(writer, tensor.Data, tensor.Shape, 0, ref index);
    }

    /// <summary>Writes row <paramref name="row"/> of the first dimension of <paramref name="tensor"/> as nested lists.</summary>
    public static void WriteRow(Utf8JsonWriter writer, OrtTensor tensor, int row)
    {
        var rowSize = 1L;
        for (var d = 1; d < tensor.Shape.Length; d++)
        {
            rowSize *= tensor.Shape[d];
        }

        var index = checked((int)(row * rowSize));
        WriteNested(writer, tensor.Data, tensor.Shape, 1, ref index);
    }

    /// <summary>Writes element <paramref name="index"/> of a tensor's storage as a JSON value.</summary>
    public static void WriteElement(Utf8JsonWriter writer, Array data, int index)
    {
        // By the exact element type: the CLR lets byte[] pass as sbyte[] (and back), so array patterns cannot tell them apart.
        switch (Type.GetTypeCode(data.GetType().GetElementType()))
        {
            case TypeCode.Single: WriteFloat(writer, ((float[])data)[index]); break;
            case TypeCode.Double: WriteFloat(writer, ((double[])data)[index]); break;
            case TypeCode.Int64: writer.WriteNumberValue(((long[])data)[index]); break;
            case TypeCode.Int32: writer.WriteNumberValue(((int[])data)[index]); break;
            case TypeCode.Int16: writer.WriteNumberValue(((short[])data)[index]); break;
            case TypeCode.SByte: writer.WriteNumberValue(((sbyte[])data)[index]); break;
            case TypeCode.Byte: writer.WriteNumberValue(((byte[])data)[index]); break;
            case TypeCode.UInt16: writer.WriteNumberValue(((ushort[])data)[index]); break;
            case TypeCode.UInt32: writer.WriteNumberValue(((uint[])data)[index]); break;
            case TypeCode.UInt64: writer.WriteNumberValue(((ulong[])data)[index]); break;
            case TypeCode.Boolean: writer.WriteBooleanValue(((bool[])data)[index]); break;
            case TypeCode.String: writer.WriteStringValue(((string[])data)[index] ?? string.Empty); break;
            default:
                if (data is Half[] h)
                {
                    WriteFloat(writer, (double)h[index]);
                    break;
                }

                throw new NotSupportedException($"cannot write a tensor of {data.GetType().Name}");
        }
    }

    /// <summary>A shape as text, e.g. <c>[2, 3]</c>.</summary>
    public static string Format(IReadOnlyList<long> shape) => $"[{string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture)))}]";

    private static void WriteFloat(Utf8JsonWriter writer, double value)
    {
        if (double.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteStringValue(double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
        }
    }

    private static void WriteFloat(Utf8JsonWriter writer, float value)
    {
        if (float.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            WriteFloat(writer, (double)value);
        }
    }

    private static void WriteNested(Utf8JsonWriter writer, Array data, long[] shape, int dim, ref int index)
    {
        if (dim == shape.Length)
        {
            WriteElement(writer, data, index++);
            return;
        }

        writer.WriteStartArray();
        for (var i = 0L; i < shape[dim]; i++)
        {
            WriteNested(writer, data, shape, dim + 1, ref index);
        }

        writer.WriteEndArray();
    }

    private static void ShapeOf(JsonElement value, List<long> shape, string name)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        shape.Add(value.GetArrayLength());
        if (value.GetArrayLength() == 0)
        {
            return;
        }

        List<long>? inner = null;
        foreach (var item in value.EnumerateArray())
        {
            var s = new List<long>();
            ShapeOf(item, s, name);
            if (inner is null)
            {
                inner = s;
            }
            else if (!inner.SequenceEqual(s))
            {
                throw new PredictionInputException($"input '{name}' is a ragged list (elements of shape {Format([.. inner])} and {Format([.. s])}); a tensor needs lists of equal length at each level");
            }
        }

        shape.AddRange(inner!);
    }

    private static void Flatten(JsonElement value, List<JsonElement> values)
    {
        if (value.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in value.EnumerateArray())
            {
                Flatten(item, values);
            }
        }
        else
        {
            values.Add(value);
        }
    }

    private static Array Convert(List<JsonElement> values, TensorElementType type, string name)
    {
        var n = values.Count;
        switch (type)
        {
            case TensorElementType.Float:
            {
                var a = new float[n];
                for (var i = 0; i < n; i++)
                {
                    a[i] = (float)Real(values[i], name, i, "FP32");
                }

                return a;
            }

            case TensorElementType.Double:
            {
                var a = new double[n];
                for (var i = 0; i < n; i++)
                {
                    a[i] = Real(values[i], name, i, "FP64");
                }

                return a;
            }

            case TensorElementType.Float16:
            {
                var a = new Half[n];
                for (var i = 0; i < n; i++)
                {
                    a[i] = (Half)Real(values[i], name, i, "FP16");
                }

                return a;
            }

            case TensorElementType.Int8: return Integers<sbyte>(values, name, "INT8", sbyte.MinValue, sbyte.MaxValue, v => (sbyte)v);
            case TensorElementType.Int16: return Integers<short>(values, name, "INT16", short.MinValue, short.MaxValue, v => (short)v);
            case TensorElementType.Int32: return Integers<int>(values, name, "INT32", int.MinValue, int.MaxValue, v => (int)v);
            case TensorElementType.Int64: return Integers<long>(values, name, "INT64", long.MinValue, long.MaxValue, v => v);
            case TensorElementType.UInt8: return Integers<byte>(values, name, "UINT8", 0, byte.MaxValue, v => (byte)v);
            case TensorElementType.UInt16: return Integers<ushort>(values, name, "UINT16", 0, ushort.MaxValue, v => (ushort)v);
            case TensorElementType.UInt32: return Integers<uint>(values, name, "UINT32", 0, uint.MaxValue, v => (uint)v);
            case TensorElementType.UInt64:
            {
                var a = new ulong[n];
                for (var i = 0; i < n; i++)
                {
                    a[i] = values[i].ValueKind == JsonValueKind.Number && values[i].TryGetUInt64(out var v)
                        ? v
                        : throw Bad(values[i], name, i, "UINT64", "a non-negative integer");
                }

                return a;
            }

            case TensorElementType.Bool:
            {
                var a = new bool[n];
                for (var i = 0; i < n; i++)
                {
                    a[i] = values[i].ValueKind switch
                    {
                        JsonValueKind.True => true,
                        JsonValueKind.False => false,
                        _ => throw Bad(values[i], name, i, "BOOL", "true or false"),
                    };
                }

                return a;
            }

            case TensorElementType.String:
            {
                var a = new string[n];
                for (var i = 0; i < n; i++)
                {
                    a[i] = Text(values[i], name, i);
                }

                return a;
            }

            default:
                throw new PredictionInputException($"input '{name}' has element type {type}, which cannot be sent as JSON");
        }
    }

    private static double Real(JsonElement value, string name, int index, string datatype) => value.ValueKind switch
    {
        JsonValueKind.Number => value.GetDouble(),
        JsonValueKind.String when value.GetString() is "NaN" => double.NaN,
        JsonValueKind.String when value.GetString() is "Infinity" or "inf" => double.PositiveInfinity,
        JsonValueKind.String when value.GetString() is "-Infinity" or "-inf" => double.NegativeInfinity,
        _ => throw Bad(value, name, index, datatype, "a number"),
    };

    private static T[] Integers<T>(List<JsonElement> values, string name, string datatype, long min, long max, Func<long, T> cast)
    {
        var a = new T[values.Count];
        for (var i = 0; i < a.Length; i++)
        {
            var value = values[i];
            a[i] = value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var v) && v >= min && v <= max
                ? cast(v)
                : throw Bad(value, name, i, datatype, $"an integer from {min} to {max}");
        }

        return a;
    }

    /// <summary>BYTES elements: JSON strings, or TF Serving's <c>{"b64": …}</c> for binary values (decoded as UTF-8).</summary>
    private static string Text(JsonElement value, string name, int index)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            return value.GetString()!;
        }

        if (value.ValueKind == JsonValueKind.Object && value.TryGetProperty("b64", out var b64) && b64.ValueKind == JsonValueKind.String)
        {
            try
            {
                return Encoding.UTF8.GetString(System.Convert.FromBase64String(b64.GetString()!));
            }
            catch (FormatException)
            {
                throw Bad(value, name, index, "BYTES", "valid base64 in 'b64'");
            }
        }

        throw Bad(value, name, index, "BYTES", "a string");
    }

    private static PredictionInputException Bad(JsonElement value, string name, int index, string datatype, string expected)
    {
        var text = value.GetRawText();
        return new PredictionInputException(
            $"element {index} of input '{name}' ({datatype}) must be {expected}, got {(text.Length <= 40 ? text : text[..37] + "...")}");
    }
}
