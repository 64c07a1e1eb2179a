using System.Globalization;
using System.Text.Json;
using Ctm.Onnx;

namespace Ctm.Predictor.Inference;

/// <summary>An instance that does not fit the model's inputs; the message names the instance and the feature.</summary>
public sealed class PredictionInputException(string message) : Exception(message);

/// <summary>
/// Turns JSON instances into the model's input tensors and its outputs back into JSON predictions. Works for any
/// ONNX model with tabular inputs: one input per feature (an instance is an object keyed by input name, shape
/// [N] or [N,1]), or a single matrix input [N,k] (an instance is an array of k values, or an object with one key).
/// </summary>
public static class InstanceEncoder
{
    public static Dictionary<string, OrtTensor> Encode(OnnxSession session, IReadOnlyList<JsonElement> instances)
    {
        if (instances.Count == 0)
        {
            throw new PredictionInputException("'instances' is empty");
        }

        var inputs = new Dictionary<string, OrtTensor>(StringComparer.Ordinal);
        var n = instances.Count;
        if (session.Inputs.Count == 1 && session.Inputs[0] is { Rank: 2 } only && only.Shape[1] != 1)
        {
            inputs[only.Name] = EncodeMatrix(only, instances);
            return inputs;
        }

        foreach (var input in session.Inputs)
        {
            var shape = input.Rank <= 1 ? new long[] { n } : [n, 1];
            var cells = new JsonElement?[n];
            for (var i = 0; i < n; i++)
            {
                var instance = instances[i];
                if (instance.ValueKind != JsonValueKind.Object)
                {
                    throw new PredictionInputException($"instance {i} must be a JSON object keyed by feature name ({string.Join(", ", session.Inputs.Select(x => x.Name))})");
                }

                if (!instance.TryGetProperty(input.Name, out var value))
                {
                    throw new PredictionInputException($"instance {i} is missing the feature '{input.Name}' ({input.ElementType}); send null for a missing value");
                }

                cells[i] = value;
            }

            inputs[input.Name] = EncodeColumn(input, cells, shape);
        }

        return inputs;
    }

    /// <summary>Runs one synthetic row through a freshly loaded session, so that the first real request does not pay for lazy initialization.</summary>
    public static void WarmUp(OnnxSession session)
    {
        var inputs = new Dictionary<string, OrtTensor>(StringComparer.Ordinal);
        foreach (var input in session.Inputs)
        {
            var shape = input.Shape.Select(d => d < 0 ? 1 : d).ToArray();
            var count = (int)shape.Aggregate(1L, (a, b) => a * b);
            inputs[input.Name] = input.ElementType switch
            {
                TensorElementType.Float => OrtTensor.FromFloat(new float[count], shape),
                TensorElementType.Double => OrtTensor.FromDouble(new double[count], shape),
                TensorElementType.Int64 => OrtTensor.FromInt64(new long[count], shape),
                TensorElementType.Int32 => OrtTensor.FromInt32(new int[count], shape),
                TensorElementType.Bool => OrtTensor.FromBool(new bool[count], shape),
                TensorElementType.String => OrtTensor.FromString(Enumerable.Repeat(string.Empty, count).ToArray(), shape),
                _ => throw new PredictionInputException($"input '{input.Name}' has element type {input.ElementType}, which is not served"),
            };
        }

        session.Run(inputs);
    }

    /// <summary>Row <paramref name="row"/> of the outputs as a JSON-ready value: the single output's value, or an object keyed by output name.</summary>
    public static object? Decode(IReadOnlyList<OnnxNodeInfo> outputs, IReadOnlyList<OrtTensor> values, int row, IReadOnlyList<string>? classes)
    {
        // Our own classifiers: label + probabilities keyed by class name.
        var labelIndex = IndexOf(outputs, "label");
        var probabilitiesIndex = IndexOf(outputs, "probabilities");
        if (labelIndex >= 0 && probabilitiesIndex >= 0 && classes is { Count: > 0 })
        {
            var probabilities = values[probabilitiesIndex].AsFloat();
            var width = probabilities.Length / Math.Max(1, (int)values[probabilitiesIndex].Shape[0]);
            var byClass = new Dictionary<string, double>(StringComparer.Ordinal);
            for (var c = 0; c < width && c < classes.Count; c++)
            {
                byClass[classes[c]] = probabilities[(row * width) + c];
            }

            return new Dictionary<string, object?> { ["label"] = RowValue(values[labelIndex], row), ["probabilities"] = byClass };
        }

        if (outputs.Count == 1)
        {
            return RowValue(values[0], row);
        }

        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        for (var o = 0; o < outputs.Count; o++)
        {
            result[outputs[o].Name] = RowValue(values[o], row);
        }

        return result;
    }

    private static int IndexOf(IReadOnlyList<OnnxNodeInfo> outputs, string name)
    {
        for (var i = 0; i < outputs.Count; i++)
        {
            if (outputs[i].Name == name)
            {
                return i;
            }
        }

        return -1;
    }

    private static object? RowValue(OrtTensor tensor, int row)
    {
        var rows = tensor.Shape.Length == 0 ? 1 : (int)tensor.Shape[0];
        var width = rows == 0 ? 0 : (int)(tensor.ElementCount / rows);
        object? At(int i) => tensor.ElementType switch
        {
            TensorElementType.Float => (double)tensor.AsFloat()[i],
            TensorElementType.Double => tensor.AsDouble()[i],
            TensorElementType.Int64 => tensor.AsInt64()[i],
            TensorElementType.Int32 => tensor.AsInt32()[i],
            TensorElementType.Bool => tensor.AsBool()[i],
            TensorElementType.String => tensor.AsString()[i],
            _ => tensor.Data.GetValue(i)?.ToString(),
        };
        if (width == 1)
        {
            return At(row);
        }

        var values = new object?[width];
        for (var c = 0; c < width; c++)
        {
            values[c] = At((row * width) + c);
        }

        return values;
    }

    private static OrtTensor EncodeMatrix(OnnxNodeInfo input, IReadOnlyList<JsonElement> instances)
    {
        var width = (int)input.Shape[1];
        if (width < 0)
        {
            width = instances[0].ValueKind == JsonValueKind.Array ? instances[0].GetArrayLength() : 0;
        }

        var cells = new JsonElement?[instances.Count * width];
        for (var i = 0; i < instances.Count; i++)
        {
            var row = instances[i];
            if (row.ValueKind == JsonValueKind.Object && row.TryGetProperty(input.Name, out var named))
            {
                row = named;
            }

            if (row.ValueKind != JsonValueKind.Array || row.GetArrayLength() != width)
            {
                throw new PredictionInputException($"instance {i} must be an array of {width} values for the input '{input.Name}' ({input})");
            }

            var c = 0;
            foreach (var value in row.EnumerateArray())
            {
                cells[(i * width) + c++] = value;
            }
        }

        return EncodeColumn(input, cells, [instances.Count, width]);
    }

    private static OrtTensor EncodeColumn(OnnxNodeInfo input, JsonElement?[] cells, long[] shape)
    {
        switch (input.ElementType)
        {
            case TensorElementType.Float:
                return OrtTensor.FromFloat([.. cells.Select((c, i) => (float)Number(c, input, i))], shape);
            case TensorElementType.Double:
                return OrtTensor.FromDouble([.. cells.Select((c, i) => Number(c, input, i))], shape);
            case TensorElementType.Int64:
                return OrtTensor.FromInt64([.. cells.Select((c, i) => Integer(c, input, i))], shape);
            case TensorElementType.Int32:
                return OrtTensor.FromInt32([.. cells.Select((c, i) => checked((int)Integer(c, input, i)))], shape);
            case TensorElementType.Bool:
                return OrtTensor.FromBool([.. cells.Select((c, i) => Boolean(c, input, i))], shape);
            case TensorElementType.String:
                return OrtTensor.FromString([.. cells.Select(Text)], shape);
            default:
                throw new PredictionInputException($"input '{input.Name}' has element type {input.ElementType}, which is not served");
        }
    }

    private static double Number(JsonElement? cell, OnnxNodeInfo input, int index) => cell switch
    {
        null or { ValueKind: JsonValueKind.Null } => double.NaN, // missing: the model's own imputation decides
        { ValueKind: JsonValueKind.Number } c => c.GetDouble(),
        { ValueKind: JsonValueKind.String } c when double.TryParse(c.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        { ValueKind: JsonValueKind.True } => 1,
        { ValueKind: JsonValueKind.False } => 0,
        var c => throw new PredictionInputException($"feature '{input.Name}' of instance {index} must be a number, got {c.Value.GetRawText()}"),
    };

    private static long Integer(JsonElement? cell, OnnxNodeInfo input, int index) => cell switch
    {
        { ValueKind: JsonValueKind.Number } c when c.TryGetInt64(out var l) => l,
        { ValueKind: JsonValueKind.String } c when long.TryParse(c.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) => l,
        var c => throw new PredictionInputException($"feature '{input.Name}' of instance {index} must be an integer, got {c?.GetRawText() ?? "nothing"}"),
    };

    private static bool Boolean(JsonElement? cell, OnnxNodeInfo input, int index) => cell switch
    {
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        var c => throw new PredictionInputException($"feature '{input.Name}' of instance {index} must be true or false, got {c?.GetRawText() ?? "nothing"}"),
    };

    private static string Text(JsonElement? cell) => cell switch
    {
        null or { ValueKind: JsonValueKind.Null } => string.Empty,
        { ValueKind: JsonValueKind.String } c => c.GetString() ?? string.Empty,
        var c => c.Value.GetRawText(),
    };
}
