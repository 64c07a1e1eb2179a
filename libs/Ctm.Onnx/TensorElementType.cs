namespace Ctm.Onnx;

/// <summary>Element type of a tensor, numbered as in ONNX's <c>TensorProto.DataType</c> (and ORT's C API).</summary>
public enum TensorElementType
{
    /// <summary>Not a tensor, or a type this binding does not know.</summary>
    Undefined = 0,
    /// <summary>32-bit float.</summary>
    Float = 1,
    /// <summary>Unsigned byte.</summary>
    UInt8 = 2,
    /// <summary>Signed byte.</summary>
    Int8 = 3,
    /// <summary>Unsigned 16-bit integer.</summary>
    UInt16 = 4,
    /// <summary>Signed 16-bit integer.</summary>
    Int16 = 5,
    /// <summary>Signed 32-bit integer.</summary>
    Int32 = 6,
    /// <summary>Signed 64-bit integer.</summary>
    Int64 = 7,
    /// <summary>UTF-8 string.</summary>
    String = 8,
    /// <summary>Boolean, one byte per element.</summary>
    Bool = 9,
    /// <summary>IEEE half precision float.</summary>
    Float16 = 10,
    /// <summary>64-bit float.</summary>
    Double = 11,
    /// <summary>Unsigned 32-bit integer.</summary>
    UInt32 = 12,
    /// <summary>Unsigned 64-bit integer.</summary>
    UInt64 = 13,
}

/// <summary>What kind of value a model input or output is (ORT's <c>ONNXType</c>).</summary>
public enum OnnxValueKind
{
    /// <summary>Unknown.</summary>
    Unknown = 0,
    /// <summary>A dense tensor: the only kind <see cref="OnnxSession.Run(IReadOnlyDictionary{string, OrtTensor}, IReadOnlyList{string})"/> reads and writes.</summary>
    Tensor = 1,
    /// <summary>A sequence, e.g. the list of maps that sklearn exporters' ZipMap produces.</summary>
    Sequence = 2,
    /// <summary>A map.</summary>
    Map = 3,
    /// <summary>An opaque value.</summary>
    Opaque = 4,
    /// <summary>A sparse tensor.</summary>
    SparseTensor = 5,
    /// <summary>An optional value.</summary>
    Optional = 6,
}

/// <summary>Where ONNX Runtime executes a session.</summary>
public enum ExecutionProvider
{
    /// <summary>The CPU provider, always available.</summary>
    Cpu,
    /// <summary>
    /// The CUDA provider. It is in the build output, but loads only where CUDA 13 (libcudart, libcublas and
    /// libcublasLt 13, libcurand 10) and an NVIDIA driver are installed; elsewhere a session asking for it runs on
    /// the CPU and logs why.
    /// </summary>
    Cuda,
}

/// <summary>ORT graph optimization level (values as in ORT's <c>GraphOptimizationLevel</c>).</summary>
public enum GraphOptimizationLevel
{
    /// <summary>No graph optimizations.</summary>
    None = 0,
    /// <summary>Semantics-preserving basic rewrites (constant folding, redundant node removal).</summary>
    Basic = 1,
    /// <summary>Basic plus complex node fusions.</summary>
    Extended = 2,
    /// <summary>Everything, including layout optimizations.</summary>
    All = 99,
}

/// <summary>Helpers for <see cref="TensorElementType"/>.</summary>
public static class TensorElementTypes
{
    /// <summary>Size in bytes of one element, or 0 for strings and unknown types.</summary>
    public static int SizeOf(this TensorElementType type) => type switch
    {
        TensorElementType.Float => 4,
        TensorElementType.UInt8 => 1,
        TensorElementType.Int8 => 1,
        TensorElementType.UInt16 => 2,
        TensorElementType.Int16 => 2,
        TensorElementType.Int32 => 4,
        TensorElementType.Int64 => 8,
        TensorElementType.Bool => 1,
        TensorElementType.Float16 => 2,
        TensorElementType.Double => 8,
        TensorElementType.UInt32 => 4,
        TensorElementType.UInt64 => 8,
        _ => 0,
    };

    /// <summary>The managed element type used to hold this tensor element type.</summary>
    public static Type? ClrType(this TensorElementType type) => type switch
    {
        TensorElementType.Float => typeof(float),
        TensorElementType.UInt8 => typeof(byte),
        TensorElementType.Int8 => typeof(sbyte),
        TensorElementType.UInt16 => typeof(ushort),
        TensorElementType.Int16 => typeof(short),
        TensorElementType.Int32 => typeof(int),
        TensorElementType.Int64 => typeof(long),
        TensorElementType.String => typeof(string),
        TensorElementType.Bool => typeof(bool),
        TensorElementType.Float16 => typeof(Half),
        TensorElementType.Double => typeof(double),
        TensorElementType.UInt32 => typeof(uint),
        TensorElementType.UInt64 => typeof(ulong),
        _ => null,
    };
}
