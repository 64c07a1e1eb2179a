
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
/// Reads the model-level facts of an ONNX model (opsets, metadata, graph input and output names) with a small
/// protobuf decoder: for registries and tools that need them without creating a session.
/// </summary>
public static class OnnxModelReader
{
    /// <summary>Decodes <paramref name="model"/>; unknown fields are skipped.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a well-formed protobuf message.</exception>
    public static OnnxModelSummary Read(ReadOnlySpan<byte> model)
    {
        long ir = 0;
        var producer = string.Empty;
        var graphName = string.Empty;
        var opsets = new Dictionary<string, long>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var inputs = new List<string>();
        var outputs = new List<string>();
        var initializers = new List<string>();

        var reader = new ProtoReader(model);
        while (reader.Next(out var field, out var wire))
        {
            switch (field, wire)
            {
                case (1, 0):
                    ir = (long)reader.Varint();
                    break;
                case (2, 2):
                    producer = reader.String();
                    break;
                case (7, 2):
                    ReadGraph(reader.Bytes(), ref graphName, inputs, outputs, initializers);
                    break;
                case (8, 2):
                    var (domain, version) = ReadOpset(reader.Bytes());
                    opsets[domain] = version;
                    break;
                case (14, 2):
                    var (key, value) = ReadEntry(reader.Bytes());
                    metadata[key] = value;
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        return new OnnxModelSummary(ir, producer, graphName, opsets, metadata, inputs, outputs, initializers);
    }

    private static void ReadGraph(ReadOnlySpan<byte> bytes, ref string name, List<string> inputs, List<string> outputs, List<string> initializers)
    {
        var reader = new ProtoReader(bytes);
        while (reader.Next(out var field, out var wire))
        {
            switch (field, wire)
            {
                case (2, 2):
                    name = reader.String();
                    break;
                case (5, 2):
                    initializers.Add(FirstString(reader.Bytes(), 8));
                    break;
                case (11, 2):
                    inputs.Add(FirstString(reader.Bytes(), 1));
                    break;
                case (12, 2):
                    outputs.Add(FirstString(reader.Bytes(), 1));
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }
    }

    private static (string Domain, long Version) ReadOpset(ReadOnlySpan<byte> bytes)
    {
        var reader = new ProtoReader(bytes);
        var domain = string.Empty;
        long version = 0;
        while (reader.Next(out var field, out var wire))
        {
            switch (field, wire)
            {
                case (1, 2):
                    domain = reader.String();
                    break;
                case (2, 0):
                    version = (long)reader.Varint();
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        return (domain, version);
    }

    private static (string Key, string Value) ReadEntry(ReadOnlySpan<byte> bytes)
    {
        var reader = new ProtoReader(bytes);
        string key = string.Empty, value = string.Empty;
        while (reader.Next(out var field, out var wire))
        {
            switch (field, wire)
            {
                case (1, 2):
                    key = reader.String();
                    break;
                case (2, 2):
                    value = reader.String();
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        return (key, value);
    }

    private static string FirstString(ReadOnlySpan<byte> bytes, int wantedField)
    {
        var reader = new ProtoReader(bytes);
        while (reader.Next(out var field, out var wire))
        {
            if (field == wantedField && wire == 2)
            {
                return reader.String();
            }

            reader.Skip(wire);
        }

        return string.Empty;
    }
}
