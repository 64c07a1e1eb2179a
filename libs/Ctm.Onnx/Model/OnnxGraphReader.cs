using System.Diagnostics.CodeAnalysis;
using Ctm.Onnx.Proto;
using Google.Protobuf;

namespace Ctm.Onnx.Model;

/// <summary>One node of an ONNX graph, with the attributes the static-path analysis reads.</summary>
public sealed record OnnxGraphNode(string OpType, string Domain, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs, IReadOnlyDictionary<string, OnnxGraphAttribute> Attributes);

/// <summary>An attribute's value: whichever of the scalar or list fields the writer set.</summary>
[SuppressMessage("Naming", "CA1711", Justification = "An ONNX node attribute (AttributeProto), not a .NET attribute: the format's own word.")]
public sealed record OnnxGraphAttribute(long? Int, float? Float, string? Text, IReadOnlyList<long> Ints, IReadOnlyList<float> Floats, IReadOnlyList<string> Strings);

/// <summary>
/// Reads the top-level nodes of an ONNX model (op type, domain, inputs, outputs, scalar and list attributes):
/// what <see cref="OnnxModelReader"/> leaves out and a server needs to analyse a graph (e.g. the vocabularies of
/// LabelEncoders). Sub-graph and tensor attributes are not reported.
/// </summary>
public static class OnnxGraphReader
{
    private static readonly MessageParser<ModelNodesView> Parser = OnnxProtoParser.Discarding(ModelNodesView.Parser);

    /// <exception cref="InvalidDataException">The bytes are not a well-formed ONNX model (truncated, not protobuf, or
    /// without a graph).</exception>
    public static IReadOnlyList<OnnxGraphNode> ReadNodes(ReadOnlySpan<byte> model)
    {
        var proto = OnnxProtoParser.ParseModel(Parser, model, m => m.Graph is not null);
        return [.. proto.Graph.Node.Select(ToNode)];
    }

    private static OnnxGraphNode ToNode(NodeView node)
    {
        var attributes = new Dictionary<string, OnnxGraphAttribute>(StringComparer.Ordinal);
        foreach (var a in node.Attribute)
        {
            attributes[a.Name] = ToAttribute(a);
        }

        return new OnnxGraphNode(node.OpType, node.Domain, [.. node.Input], [.. node.Output], attributes);
    }

    private static OnnxGraphAttribute ToAttribute(AttributeView a)
    {
        // proto3 cannot tell a zero that was written from one that was not: AttributeProto.type says which
        // scalar is set; an untyped attribute (older writers) counts a non-default value as set.
        var type = a.Type;
        var untyped = type == AttributeProto.Types.AttributeType.Undefined;
        return new OnnxGraphAttribute(
            type == AttributeProto.Types.AttributeType.Int || (untyped && a.I != 0) ? a.I : null,
            type == AttributeProto.Types.AttributeType.Float || (untyped && a.F != 0) ? a.F : null,
            type == AttributeProto.Types.AttributeType.String || (untyped && a.S.Length > 0) ? a.S : null,
            [.. a.Ints],
            [.. a.Floats],
            [.. a.Strings]);
    }
}
