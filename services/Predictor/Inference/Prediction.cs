using System.Buffers;
using System.Text.Json;
using Ctm.Onnx;

namespace Ctm.Predictor.Inference;

/// <summary>One row's outputs (a typed array per output, in signature order), and how each protocol writes it.</summary>
public sealed class Prediction(ModelSignature signature, Array[] values)
{
    private byte[]? _tfJson;

    public ModelSignature Signature { get; } = signature;

    /// <summary>Per output: this row's values (float[], double[], long[], int[], bool[] or string[]).</summary>
    public Array[] Values { get; } = values;

    /// <summary>The TF Serving JSON of this prediction, rendered once (lookup-table entries are rendered at load).</summary>
    public byte[] TfJson
    {
        get
        {
            if (_tfJson is null)
            {
                var buffer = new ArrayBufferWriter<byte>(128);
                using (var writer = new Utf8JsonWriter(buffer))
                {
                    WriteTf(writer, null);
                }

                _tfJson = buffer.WrittenSpan.ToArray();
            }

            return _tfJson;
        }
    }

    /// <summary>The top label of a classifier (for shadow comparisons), or null.</summary>
    public string? Label => Signature.IsClassifier ? ((string[])Values[Signature.LabelIndex])[0] : null;

    /// <summary>The first float output (probabilities or the regression prediction), or null.</summary>
    public float[]? FirstFloats => Values.OfType<float[]>().FirstOrDefault();

    /// <summary>
    /// TF Serving form: our classifiers as <c>{"label": …, "probabilities": {class: p}}</c>; a single output as its value
    /// (an array if wider than one); several outputs as an object keyed by output name. With an example key, the
    /// prediction is an object and carries <c>"key"</c> (a single output is then named by its output name).
    /// </summary>
    public void WriteTf(Utf8JsonWriter writer, string? keyRawJson)
    {
        var s = Signature;
        if (keyRawJson is null && _tfJson is not null)
        {
            writer.WriteRawValue(_tfJson, skipInputValidation: true);
            return;
        }

        if (s.IsClassifier)
        {
            writer.WriteStartObject();
            WriteKey(writer, keyRawJson);
            writer.WriteString(s.Outputs[s.LabelIndex].JsonName, ((string[])Values[s.LabelIndex])[0]);
            writer.WritePropertyName(s.Outputs[s.ProbabilitiesIndex].JsonName);
            writer.WriteStartObject();
            var probabilities = (float[])Values[s.ProbabilitiesIndex];
            var classes = s.EncodedClasses!;
            for (var c = 0; c < probabilities.Length && c < classes.Length; c++)
            {
                writer.WriteNumber(classes[c], probabilities[c]);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
            return;
        }

        if (s.Outputs.Count == 1 && keyRawJson is null)
        {
            WriteValue(writer, Values[0]);
            return;
        }

        writer.WriteStartObject();
        WriteKey(writer, keyRawJson);
        for (var o = 0; o < s.Outputs.Count; o++)
        {
            writer.WritePropertyName(s.Outputs[o].JsonName);
            WriteValue(writer, Values[o]);
        }

        writer.WriteEndObject();
    }

    /// <summary>Writes element <paramref name="index"/> of <paramref name="values"/> as a JSON value.</summary>
    public static void WriteElement(Utf8JsonWriter writer, Array values, int index) => TensorJson.WriteElement(writer, values, index);

    /// <summary>The typed array for <paramref name="count"/> values of <paramref name="type"/>.</summary>
    public static Array NewArray(TensorElementType type, int count) => type switch
    {
        TensorElementType.Float => new float[count],
        TensorElementType.Double => new double[count],
        TensorElementType.Int64 => new long[count],
        TensorElementType.Int32 => new int[count],
        TensorElementType.Bool => new bool[count],
        TensorElementType.String => new string[count],
        _ => throw new PredictionInputException($"output element type {type} is not served"),
    };

    private static void WriteValue(Utf8JsonWriter writer, Array values)
    {
        if (values.Length == 1)
        {
            WriteElement(writer, values, 0);
            return;
        }

        writer.WriteStartArray();
        for (var i = 0; i < values.Length; i++)
        {
            WriteElement(writer, values, i);
        }

        writer.WriteEndArray();
    }

    private static void WriteKey(Utf8JsonWriter writer, string? keyRawJson)
    {
        if (keyRawJson is not null)
        {
            writer.WritePropertyName("key"u8);
            writer.WriteRawValue(keyRawJson, skipInputValidation: true);
        }
    }
}
