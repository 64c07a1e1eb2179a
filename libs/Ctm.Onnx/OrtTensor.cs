namespace Ctm.Onnx;

/// <summary>
/// A dense tensor held in managed memory: a model input you build, or an output ORT returned.
/// </summary>
/// <remarks>
/// The factories keep the array you pass (no copy) and <c>AsXxx</c> return the tensor's own array, so a tensor
/// costs one allocation; do not change an array while a <see cref="OnnxSession.Run(IReadOnlyDictionary{string, OrtTensor}, IReadOnlyList{string})"/> that reads it is running.
/// An empty <see cref="Shape"/> is a scalar (one element).
/// </remarks>
public sealed class OrtTensor
{
    private OrtTensor(TensorElementType elementType, Array data, long[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(shape);
        long count = 1;
        foreach (var dim in shape)
        {
            if (dim < 0)
            {
                throw new ArgumentException($"Tensor shape [{string.Join(", ", shape)}] has a negative dimension.", nameof(shape));
            }

            count *= dim;
        }

        if (count != data.LongLength)
        {
            throw new ArgumentException(
                $"Tensor shape [{string.Join(", ", shape)}] holds {count} elements, but the data has {data.LongLength}.",
                nameof(shape));
        }

        ElementType = elementType;
        Data = data;
        Shape = (long[])shape.Clone();
    }

    /// <summary>The element type.</summary>
    public TensorElementType ElementType { get; }

    /// <summary>The dimensions; empty for a scalar.</summary>
    public long[] Shape { get; }

    /// <summary>The tensor's storage: a one-dimensional array of <see cref="TensorElementTypes.ClrType"/> elements, row-major.</summary>
    public Array Data { get; }

    /// <summary>Number of elements (the product of <see cref="Shape"/>).</summary>
    public long ElementCount => Data.LongLength;

    /// <summary>A float tensor over <paramref name="data"/>.</summary>
    public static OrtTensor FromFloat(float[] data, params long[] shape) => new(TensorElementType.Float, data, shape);

    /// <summary>A double tensor over <paramref name="data"/>.</summary>
    public static OrtTensor FromDouble(double[] data, params long[] shape) => new(TensorElementType.Double, data, shape);

    /// <summary>An int64 tensor over <paramref name="data"/>.</summary>
    public static OrtTensor FromInt64(long[] data, params long[] shape) => new(TensorElementType.Int64, data, shape);

    /// <summary>An int32 tensor over <paramref name="data"/>.</summary>
    public static OrtTensor FromInt32(int[] data, params long[] shape) => new(TensorElementType.Int32, data, shape);

    /// <summary>A bool tensor over <paramref name="data"/>.</summary>
    public static OrtTensor FromBool(bool[] data, params long[] shape) => new(TensorElementType.Bool, data, shape);

    /// <summary>A string tensor over <paramref name="data"/>; strings go to ORT as UTF-8 (null is sent as empty).</summary>
    public static OrtTensor FromString(string[] data, params long[] shape) => new(TensorElementType.String, data, shape);

    /// <summary>A uint8 tensor over <paramref name="data"/>.</summary>
    public static OrtTensor FromUInt8(byte[] data, params long[] shape) => new(TensorElementType.UInt8, data, shape);

    /// <summary>An int8 tensor over <paramref name="data"/>.</summary>
    public static OrtTensor FromInt8(sbyte[] data, params long[] shape) => new(TensorElementType.Int8, data, shape);

    /// <summary>An int16 tensor over <paramref name="data"/>.</summary>
    public static OrtTensor FromInt16(short[] data, params long[] shape) => new(TensorElementType.Int16, data, shape);

    /// <summary>A uint16 tensor over <paramref name="data"/>.</summary>
    public static OrtTensor FromUInt16(ushort[] data, params long[] shape) => new(TensorElementType.UInt16, data, shape);

    /// <summary>A uint32 tensor over <paramref name="data"/>.</summary>
    public static OrtTensor FromUInt32(uint[] data, params long[] shape) => new(TensorElementType.UInt32, data, shape);

    /// <summary>A uint64 tensor over <paramref name="data"/>.</summary>
    public static OrtTensor FromUInt64(ulong[] data, params long[] shape) => new(TensorElementType.UInt64, data, shape);

    /// <summary>A float16 tensor over <paramref name="data"/>.</summary>
    public static OrtTensor FromFloat16(Half[] data, params long[] shape) => new(TensorElementType.Float16, data, shape);

    /// <summary>
    /// A tensor of <paramref name="elementType"/> over <paramref name="data"/>, whose element type must be the
    /// matching <see cref="TensorElementTypes.ClrType"/>.
    /// </summary>
    public static OrtTensor FromArray(TensorElementType elementType, Array data, params long[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        var expected = elementType.ClrType()
            ?? throw new ArgumentException($"Element type {elementType} is not supported.", nameof(elementType));
        if (data.GetType().GetElementType() != expected || data.Rank != 1)
        {
            throw new ArgumentException(
                $"A {elementType} tensor needs a {expected.Name}[]; got {data.GetType().Name}.", nameof(data));
        }

        return new OrtTensor(elementType, data, shape);
    }

    /// <summary>The float elements (the tensor's own array).</summary>
    /// <exception cref="InvalidOperationException">The tensor is not <see cref="TensorElementType.Float"/>.</exception>
    public float[] AsFloat() => As<float>(TensorElementType.Float);

    /// <summary>The double elements (the tensor's own array).</summary>
    /// <exception cref="InvalidOperationException">The tensor is not <see cref="TensorElementType.Double"/>.</exception>
    public double[] AsDouble() => As<double>(TensorElementType.Double);

    /// <summary>The int64 elements (the tensor's own array).</summary>
    /// <exception cref="InvalidOperationException">The tensor is not <see cref="TensorElementType.Int64"/>.</exception>
    public long[] AsInt64() => As<long>(TensorElementType.Int64);

    /// <summary>The int32 elements (the tensor's own array).</summary>
    /// <exception cref="InvalidOperationException">The tensor is not <see cref="TensorElementType.Int32"/>.</exception>
    public int[] AsInt32() => As<int>(TensorElementType.Int32);

    /// <summary>The bool elements (the tensor's own array).</summary>
    /// <exception cref="InvalidOperationException">The tensor is not <see cref="TensorElementType.Bool"/>.</exception>
    public bool[] AsBool() => As<bool>(TensorElementType.Bool);

    /// <summary>The string elements (the tensor's own array).</summary>
    /// <exception cref="InvalidOperationException">The tensor is not <see cref="TensorElementType.String"/>.</exception>
    public string[] AsString() => As<string>(TensorElementType.String);

    /// <summary>The uint8 elements (the tensor's own array).</summary>
    /// <exception cref="InvalidOperationException">The tensor is not <see cref="TensorElementType.UInt8"/>.</exception>
    public byte[] AsUInt8() => As<byte>(TensorElementType.UInt8);

    /// <summary>The elements widened to double, whatever the numeric or bool element type (for generic consumers).</summary>
    /// <exception cref="InvalidOperationException">The tensor holds strings.</exception>
    public double[] ToDoubleArray() => ElementType switch
    {
        // By element type, not by array pattern: the CLR lets a ulong[] pass as long[] (and uint[] as int[], …).
        TensorElementType.Float => Array.ConvertAll((float[])Data, v => (double)v),
        TensorElementType.Double => (double[])Data.Clone(),
        TensorElementType.Int64 => Array.ConvertAll((long[])Data, v => (double)v),
        TensorElementType.Int32 => Array.ConvertAll((int[])Data, v => (double)v),
        TensorElementType.Bool => Array.ConvertAll((bool[])Data, v => v ? 1.0 : 0.0),
        TensorElementType.UInt8 => Array.ConvertAll((byte[])Data, v => (double)v),
        TensorElementType.Int8 => Array.ConvertAll((sbyte[])Data, v => (double)v),
        TensorElementType.Int16 => Array.ConvertAll((short[])Data, v => (double)v),
        TensorElementType.UInt16 => Array.ConvertAll((ushort[])Data, v => (double)v),
        TensorElementType.UInt32 => Array.ConvertAll((uint[])Data, v => (double)v),
        TensorElementType.UInt64 => Array.ConvertAll((ulong[])Data, v => (double)v),
        TensorElementType.Float16 => Array.ConvertAll((Half[])Data, v => (double)v),
        _ => throw new InvalidOperationException($"The tensor holds {ElementType} values, which are not numeric."),
    };

    /// <inheritdoc />
    public override string ToString() => $"{ElementType}[{string.Join(", ", Shape)}]";

    private T[] As<T>(TensorElementType expected) => ElementType == expected
        ? (T[])Data
        : throw new InvalidOperationException(
            $"The tensor holds {ElementType} values (shape [{string.Join(", ", Shape)}]), not {expected}.");
}
