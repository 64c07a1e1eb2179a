using System.Buffers.Binary;
using System.Text;

namespace Ctm.Predictor.Inference;

/// <summary>One node of an ONNX graph, with the attributes the static-path analysis reads.</summary>
public sealed record GraphNode(string OpType, string Domain, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs, IReadOnlyDictionary<string, GraphAttribute> Attributes);

/// <summary>An attribute's value: whichever of the scalar or list fields the writer set.</summary>
public sealed record GraphAttribute(long? Int, float? Float, string? Text, IReadOnlyList<long> Ints, IReadOnlyList<float> Floats, IReadOnlyList<string> Strings);

/// <summary>
/// Reads the top-level nodes of an ONNX model (op type, domain, inputs, outputs, scalar and list attributes) with
/// a small protobuf decoder: what <c>Ctm.Onnx.Model.OnnxModelReader</c> leaves out and the static path needs
/// (the vocabularies of LabelEncoders). Sub-graphs and tensor attributes are skipped.
/// </summary>
public static class GraphReader
{
    /// <exception cref="InvalidDataException">The bytes are not a well-formed ONNX model.</exception>
    public static IReadOnlyList<GraphNode> ReadNodes(ReadOnlySpan<byte> model)
    {
        var nodes = new List<GraphNode>();
        var reader = new Reader(model);
        while (reader.Next(out var field, out var wire))
        {
            if (field == 7 && wire == 2)
            {
                var graph = new Reader(reader.Bytes());
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

    private static GraphNode ReadNode(ReadOnlySpan<byte> bytes)
    {
        var reader = new Reader(bytes);
        var inputs = new List<string>();
        var outputs = new List<string>();
        var attributes = new Dictionary<string, GraphAttribute>(StringComparer.Ordinal);
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

        return new GraphNode(op, domain, inputs, outputs, attributes);
    }

    private static (string Name, GraphAttribute Value) ReadAttribute(ReadOnlySpan<byte> bytes)
    {
        var reader = new Reader(bytes);
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
                    var packedInts = new Reader(reader.Bytes());
                    while (!packedInts.End)
                    {
                        ints.Add((long)packedInts.Varint());
                    }

                    break;
                case (9, 2): strings.Add(reader.String()); break;
                default: reader.Skip(wire); break;
            }
        }

        return (name, new GraphAttribute(i, f, s, ints, floats, strings));
    }

    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _position;

        public readonly bool End => _position >= _data.Length;

        public bool Next(out int field, out int wire)
        {
            if (End)
            {
                field = wire = 0;
                return false;
            }

            var tag = Varint();
            field = (int)(tag >> 3);
            wire = (int)(tag & 7);
            return true;
        }

        public ulong Varint()
        {
            ulong value = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                if (_position >= _data.Length)
                {
                    throw new InvalidDataException("Truncated varint in ONNX model.");
                }

                var b = _data[_position++];
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return value;
                }
            }

            throw new InvalidDataException("Malformed varint in ONNX model.");
        }

        public float Float() => BinaryPrimitives.ReadSingleLittleEndian(Fixed(4));

        public ReadOnlySpan<byte> Bytes()
        {
            var length = Varint();
            if (length > (ulong)(_data.Length - _position))
            {
                throw new InvalidDataException("Length-delimited field runs past the end of the ONNX model.");
            }

            var slice = _data.Slice(_position, (int)length);
            _position += (int)length;
            return slice;
        }

        public string String() => Encoding.UTF8.GetString(Bytes());

        public void Skip(int wire)
        {
            switch (wire)
            {
                case 0: Varint(); break;
                case 1: Fixed(8); break;
                case 2: Bytes(); break;
                case 5: Fixed(4); break;
                default: throw new InvalidDataException($"Unsupported protobuf wire type {wire} in ONNX model.");
            }
        }

        private ReadOnlySpan<byte> Fixed(int count)
        {
            if (_position + count > _data.Length)
            {
                throw new InvalidDataException("Fixed-width field runs past the end of the ONNX model.");
            }

            var slice = _data.Slice(_position, count);
            _position += count;
            return slice;
        }
    }
}
