using System.Buffers.Binary;
using System.Text;

namespace Ctm.Onnx.Model;

/// <summary>A protobuf wire-format reader over a span: just what reading ONNX models needs.</summary>
internal ref struct ProtoReader(ReadOnlySpan<byte> data)
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
