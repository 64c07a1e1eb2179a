using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Ctm.Onnx.Model;

/// <summary>
/// A minimal protocol-buffers encoder: varints, fixed32, length-delimited fields and packed repeated scalars.
/// </summary>
/// <remarks>
/// Nested messages are written into their own writer first and then copied in with their length, which keeps the
/// encoder trivially correct; model sizes here (tabular MLPs) make the copy cost irrelevant.
/// </remarks>
internal sealed class ProtoWriter
{
    private const int WireVarint = 0;
    private const int WireFixed64 = 1;
    private const int WireLengthDelimited = 2;
    private const int WireFixed32 = 5;

    private byte[] buffer = new byte[256];
    private int length;

    public int Length => length;

    public byte[] ToArray() => buffer.AsSpan(0, length).ToArray();

    public void WriteInt64(int field, long value)
    {
        WriteTag(field, WireVarint);
        WriteVarint(unchecked((ulong)value));
    }

    // Negative int32 values are sign-extended to 64 bits on the wire, as protobuf specifies.
    public void WriteInt32(int field, int value) => WriteInt64(field, value);

    public void WriteFloat(int field, float value)
    {
        WriteTag(field, WireFixed32);
        BinaryPrimitives.WriteSingleLittleEndian(Reserve(4), value);
    }

    public void WriteDouble(int field, double value)
    {
        WriteTag(field, WireFixed64);
        BinaryPrimitives.WriteDoubleLittleEndian(Reserve(8), value);
    }

    public void WriteString(int field, string value)
    {
        WriteTag(field, WireLengthDelimited);
        var count = Encoding.UTF8.GetByteCount(value);
        WriteVarint((ulong)count);
        Encoding.UTF8.GetBytes(value, Reserve(count));
    }

    public void WriteBytes(int field, ReadOnlySpan<byte> value)
    {
        WriteTag(field, WireLengthDelimited);
        WriteVarint((ulong)value.Length);
        value.CopyTo(Reserve(value.Length));
    }

    public void WriteMessage(int field, ProtoWriter message) => WriteBytes(field, message.buffer.AsSpan(0, message.length));

    public void WriteMessage(int field, Action<ProtoWriter> body)
    {
        var nested = new ProtoWriter();
        body(nested);
        WriteMessage(field, nested);
    }

    public void WritePackedInt64(int field, ReadOnlySpan<long> values)
    {
        var packed = new ProtoWriter();
        foreach (var v in values)
        {
            packed.WriteVarint(unchecked((ulong)v));
        }

        WriteMessage(field, packed);
    }

    public void WritePackedFloat(int field, ReadOnlySpan<float> values)
    {
        // Little-endian IEEE 754 is the wire format, which is this machine's memory layout.
        WriteBytes(field, BitConverter.IsLittleEndian ? MemoryMarshal.AsBytes(values) : ToLittleEndian(values));
    }

    private static byte[] ToLittleEndian(ReadOnlySpan<float> values)
    {
        var bytes = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        }

        return bytes;
    }

    private void WriteTag(int field, int wireType) => WriteVarint((ulong)((field << 3) | wireType));

    private void WriteVarint(ulong value)
    {
        var span = Reserve(10);
        var i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[i++] = (byte)value;
        length -= 10 - i;
    }

    private Span<byte> Reserve(int count)
    {
        if (length + count > buffer.Length)
        {
            Array.Resize(ref buffer, Math.Max(buffer.Length * 2, length + count));
        }

        var span = buffer.AsSpan(length, count);
        length += count;
        return span;
    }
}
