using System.Text;

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

        var reader = new Reader(model);
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
        var reader = new Reader(bytes);
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
        var reader = new Reader(bytes);
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
        var reader = new Reader(bytes);
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
        var reader = new Reader(bytes);
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

    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> data = data;
        private int position;

        public bool Next(out int field, out int wire)
        {
            if (position >= data.Length)
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
                if (position >= data.Length)
                {
                    throw new InvalidDataException("Truncated varint in ONNX model.");
                }

                var b = data[position++];
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return value;
                }
            }

            throw new InvalidDataException("Malformed varint in ONNX model.");
        }

        public ReadOnlySpan<byte> Bytes()
        {
            var length = Varint();
            if (length > (ulong)(data.Length - position))
            {
                throw new InvalidDataException("Length-delimited field runs past the end of the ONNX model.");
            }

            var slice = data.Slice(position, (int)length);
            position += (int)length;
            return slice;
        }

        public string String() => Encoding.UTF8.GetString(Bytes());

        public void Skip(int wire)
        {
            switch (wire)
            {
                case 0:
                    Varint();
                    break;
                case 1:
                    Advance(8);
                    break;
                case 2:
                    Bytes();
                    break;
                case 5:
                    Advance(4);
                    break;
                default:
                    throw new InvalidDataException($"Unsupported protobuf wire type {wire} in ONNX model.");
            }
        }

        private void Advance(int count)
        {
            if (position + count > data.Length)
            {
                throw new InvalidDataException("Fixed-width field runs past the end of the ONNX model.");
            }

            position += count;
        }
    }
}
