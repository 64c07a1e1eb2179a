using System.Diagnostics.CodeAnalysis;

namespace Ctm.Onnx.Model;

/// <summary>ONNX <c>AttributeProto.AttributeType</c> values.</summary>
public enum OnnxAttributeType
{
    /// <summary>One float.</summary>
    Float = 1,
    /// <summary>One int64.</summary>
    Int = 2,
    /// <summary>One string.</summary>
    String = 3,
    /// <summary>One tensor.</summary>
    Tensor = 4,
    /// <summary>One graph (e.g. If/Loop bodies).</summary>
    Graph = 5,
    /// <summary>A list of floats.</summary>
    Floats = 6,
    /// <summary>A list of int64.</summary>
    Ints = 7,
    /// <summary>A list of strings.</summary>
    Strings = 8,
}

/// <summary>A node attribute for <see cref="OnnxGraphBuilder.AddNode"/>; create one with the static factories.</summary>
[SuppressMessage("Naming", "CA1711", Justification = "An ONNX node attribute (AttributeProto), not a .NET attribute: the format's own word.")]
public sealed class OnnxAttribute
{
    private OnnxAttribute(string name, OnnxAttributeType type, object value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(value);
        Name = name;
        Type = type;
        Value = value;
    }

    /// <summary>The attribute's name, e.g. <c>axis</c>.</summary>
    public string Name { get; }

    /// <summary>Which value field is set.</summary>
    public OnnxAttributeType Type { get; }

    /// <summary>The value: long, float, string, <see cref="OrtTensor"/>, <see cref="OnnxGraphBuilder"/>, or an array of long, float or string.</summary>
    public object Value { get; }

    /// <summary>An int64 attribute.</summary>
    public static OnnxAttribute Int(string name, long value) => new(name, OnnxAttributeType.Int, value);

    /// <summary>A float attribute.</summary>
    public static OnnxAttribute Float(string name, float value) => new(name, OnnxAttributeType.Float, value);

    /// <summary>A string attribute (UTF-8 on the wire).</summary>
    public static OnnxAttribute String(string name, string value) => new(name, OnnxAttributeType.String, value);

    /// <summary>A list-of-int64 attribute.</summary>
    public static OnnxAttribute Ints(string name, params long[] values) => new(name, OnnxAttributeType.Ints, values.ToArray());

    /// <summary>A list-of-float attribute.</summary>
    public static OnnxAttribute Floats(string name, params float[] values) => new(name, OnnxAttributeType.Floats, values.ToArray());

    /// <summary>A list-of-string attribute.</summary>
    public static OnnxAttribute Strings(string name, params string[] values) => new(name, OnnxAttributeType.Strings, values.ToArray());

    /// <summary>A tensor attribute (e.g. Constant's <c>value</c>).</summary>
    public static OnnxAttribute Tensor(string name, OrtTensor value) => new(name, OnnxAttributeType.Tensor, value);

    /// <summary>A graph attribute (e.g. If's <c>then_branch</c>); the sub-graph is serialized when the model is built.</summary>
    public static OnnxAttribute Graph(string name, OnnxGraphBuilder value) => new(name, OnnxAttributeType.Graph, value);
}

/// <summary>Model-level fields for <see cref="OnnxGraphBuilder.Build"/>.</summary>
public sealed class OnnxModelInfo
{
    /// <summary>Operator sets imported, domain → version ("" is the default ONNX domain, "ai.onnx.ml" the ML one).
    /// When empty, the default domain at opset 17 is imported.</summary>
    public Dictionary<string, long> Opsets { get; init; } = new(StringComparer.Ordinal);

    /// <summary>ModelProto.metadata_props: custom key → value pairs (ORT's custom metadata map).</summary>
    public Dictionary<string, string> Metadata { get; init; } = new(StringComparer.Ordinal);

    /// <summary>ModelProto.producer_name.</summary>
    public string ProducerName { get; init; } = "ctm";

    /// <summary>ModelProto.producer_version.</summary>
    public string? ProducerVersion { get; init; }

    /// <summary>ModelProto.domain, e.g. <c>ai.ctm</c>.</summary>
    public string? Domain { get; init; }

    /// <summary>ModelProto.model_version.</summary>
    public long ModelVersion { get; init; }

    /// <summary>ModelProto.doc_string.</summary>
    public string? DocString { get; init; }

    /// <summary>ModelProto.ir_version; null picks the IR version that matches the default-domain opset.</summary>
    public long? IrVersion { get; init; }
}
