using System.Buffers.Binary;

namespace Ctm.Onnx.Model;

/// <summary>One node of an ONNX graph, with the attributes the static-path analysis reads.</summary>
public sealed record OnnxGraphNode(string OpType, string Domain, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs, IReadOnlyDictionary<string, OnnxGraphAttribute> Attributes);

/// <summary>An attribute's value: whichever of the scalar or list fields the writer set.</summary>
public sealed record OnnxGraphAttribute(long? Int, float? Float, string? Text, IReadOnlyList<long> Ints, IReadOnlyList<float> Floats, IReadOnlyList<string> Strings);

/// <summary>
/// Reads the top-level nodes of an ONNX model (op type, domain, inputs, outputs, scalar and list attributes) with
/// a small protobuf decoder: what <see cref="OnnxModelReader"/> leaves out and a server needs to
/// analyse a graph (e.g. the vocabularies of LabelEncoders). Sub-graphs and tensor attributes are skipped.
/// </summary>
public static class OnnxGraphReader
{
    /// <exception cref="InvalidDataException">The bytes are not a well-formed ONNX model.</exception>
    public static IReadOnlyList<OnnxGraphNode> ReadNodes(ReadOnlySpan<byte> model)
    {
        var nodes = new List<OnnxGraphNode>();
        var reader = new ProtoReader(model);
        while (reader.Next(out var field, out var wire))
        {
            if (field == 7 && wire == 2)
            {
                var graph = new ProtoReader(reader.Bytes());
                while (graph.Next(out var f, out var w))
                {
                    if (f == 1 && w == 2)
                    {
                        nodes.Add(ReadNode(graph.Bytes()));
                    }
                    else
                    {
                        graph.Skip(w);
                    }
                }
            }
            else
            {
                reader.Skip(wire);
            }
        }

        return nodes;
    }

    private static OnnxGraphNode ReadNode(ReadOnlySpan<byte> bytes)
    {
        var reader = new ProtoReader(bytes);
        var inputs = new List<string>();
        var outputs = new List<string>();
        var attributes = new Dictionary<string, OnnxGraphAttribute>(StringComparer.Ordinal);
        string op = string.Empty, domain = string.Empty;
        while (reader.Next(out var field, out var wire))
        {
            switch (field, wire)
            {
                case (1, 2): inputs.Add(reader.String()); break;
                case (2, 2): outputs.Add(reader.String()); break;
                case (4, 2): op = reader.String(); break;
                case (7, 2): domain = reader.String(); break;
                case (5, 2):
                    var (name, attribute) = ReadAttribute(reader.Bytes());
                    attributes[name] = attribute;
                    break;
                default: reader.Skip(wire); break;
            }
        }

        return new OnnxGraphNode(op, domain, inputs, outputs, attributes);
    }

    private static (string Name, OnnxGraphAttribute Value) ReadAttribute(ReadOnlySpan<byte> bytes)
    {
        var reader = new ProtoReader(bytes);
        var name = string.Empty;
        long? i = null;
        float? f = null;
        string? s = null;
        var ints = new List<long>();
        var floats = new List<float>();
        var strings = new List<string>();
        while (reader.Next(out var field, out var wire))
        {
            switch (field, wire)
            {
                case (1, 2): name = reader.String(); break;
                case (2, 5): f = reader.Float(); break;
                case (3, 0): i = (long)reader.Varint(); break;
                case (4, 2): s = reader.String(); break;
                case (7, 5): floats.Add(reader.Float()); break;
                case (7, 2):
                    var packedFloats = reader.Bytes();
                    for (var p = 0; p + 4 <= packedFloats.Length; p += 4)
                    {
                        floats.Add(BinaryPrimitives.ReadSingleLittleEndian(packedFloats[p..]));
                    }

                    break;
                case (8, 0): ints.Add((long)reader.Varint()); break;
                case (8, 2):
                    var packedInts = new ProtoReader(reader.Bytes());
                    while (!packedInts.End)
                    {
                        ints.Add((long)packedInts.Varint());
                    }

                    break;
                case (9, 2): strings.Add(reader.String()); break;
                default: reader.Skip(wire); break;
            }
        }

        return (name, new OnnxGraphAttribute(i, f, s, ints, floats, strings));
    }
}
