using Ctm.Onnx.Proto;
using Google.Protobuf;

namespace Ctm.Onnx.Model;

/// <summary>What <see cref="OnnxModelReader.Read"/> finds in a model's bytes, without loading ONNX Runtime.</summary>
/// <param name="IrVersion">ModelProto.ir_version.</param>
/// <param name="ProducerName">ModelProto.producer_name.</param>
/// <param name="GraphName">GraphProto.name.</param>
/// <param name="Opsets">Imported operator sets, domain → version ("" is the ONNX domain).</param>
/// <param name="Metadata">ModelProto.metadata_props.</param>
/// <param name="Inputs">Graph input names, initializers included (as listed in GraphProto.input).</param>
/// <param name="Outputs">Graph output names.</param>
/// <param name="Initializers">Initializer names.</param>
public sealed record OnnxModelSummary(
    long IrVersion,
    string ProducerName,
    string GraphName,
    IReadOnlyDictionary<string, long> Opsets,
    IReadOnlyDictionary<string, string> Metadata,
    IReadOnlyList<string> Inputs,
    IReadOnlyList<string> Outputs,
    IReadOnlyList<string> Initializers);

/// <summary>
/// Reads the model-level facts of an ONNX model (opsets, metadata, graph input and output names) without loading
/// ONNX Runtime: for registries and tools that need them without creating a session. Initializers' data is
/// skipped, not copied, so a big model reads as fast as a small one.
/// </summary>
public static class OnnxModelReader
{
    private static readonly MessageParser<ModelSummaryView> Parser = OnnxProtoParser.Discarding(ModelSummaryView.Parser);

    /// <summary>Decodes <paramref name="model"/>; unknown fields are skipped.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a well-formed ONNX model (truncated, not protobuf, or
    /// without a graph).</exception>
    public static OnnxModelSummary Read(ReadOnlySpan<byte> model)
    {
        var proto = OnnxProtoParser.ParseModel(Parser, model, m => m.Graph is not null);
        var opsets = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var opset in proto.OpsetImport)
        {
            opsets[opset.Domain] = opset.Version;
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in proto.MetadataProps)
        {
            metadata[entry.Key] = entry.Value;
        }

        var graph = proto.Graph;
        return new OnnxModelSummary(
            proto.IrVersion,
            proto.ProducerName,
            graph.Name,
            opsets,
            metadata,
            [.. graph.Input.Select(i => i.Name)],
            [.. graph.Output.Select(o => o.Name)],
            [.. graph.Initializer.Select(t => t.Name)]);
    }
}
