namespace Ctm.Onnx;

/// <summary>A model input or output as ORT reports it.</summary>
/// <param name="Name">The value's name in the graph.</param>
/// <param name="ElementType">The tensor element type; <see cref="TensorElementType.Undefined"/> when <see cref="Kind"/> is not a tensor.</param>
/// <param name="Shape">The dimensions, -1 where a dimension is dynamic; empty for a scalar, an unknown shape or a non-tensor.</param>
/// <param name="SymbolicDims">Per dimension, the symbolic name (<c>dim_param</c>, e.g. "N") or null.</param>
public sealed record OnnxNodeInfo(string Name, TensorElementType ElementType, long[] Shape, string?[] SymbolicDims)
{
    /// <summary>
    /// Tensor, or what else the value is: sklearn exporters' ZipMap output, for one, is a sequence of maps,
    /// which <see cref="OnnxSession.Run(IReadOnlyDictionary{string, OrtTensor}, IReadOnlyList{string})"/> does not return.
    /// </summary>
    public OnnxValueKind Kind { get; init; } = OnnxValueKind.Tensor;

    /// <summary>True when this is a dense tensor.</summary>
    public bool IsTensor => Kind == OnnxValueKind.Tensor;

    /// <summary>Number of dimensions ORT reports (0 for scalars and for values whose shape the model does not declare).</summary>
    public int Rank => Shape.Length;

    /// <inheritdoc />
    public override string ToString() => Kind == OnnxValueKind.Tensor
        ? $"{Name}: {ElementType}[{string.Join(", ", Shape.Select((d, i) => d >= 0 ? d.ToString(System.Globalization.CultureInfo.InvariantCulture) : SymbolicDims[i] ?? "?"))}]"
        : $"{Name}: {Kind}";
}

/// <summary>How to create an <see cref="OnnxSession"/>.</summary>
public sealed record OnnxSessionOptions
{
    /// <summary>Threads used inside one operator; 0 lets ORT choose (one per physical core).</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>Threads used across independent operators (parallel execution mode only); 0 lets ORT choose.</summary>
    public int InterOpThreads { get; init; }

    /// <summary>Graph optimizations applied when the session is created.</summary>
    public GraphOptimizationLevel OptimizationLevel { get; init; } = GraphOptimizationLevel.All;

    /// <summary>The execution provider to try; CUDA falls back to CPU (with a log line) if it cannot be used.</summary>
    public ExecutionProvider Provider { get; init; } = ExecutionProvider.Cpu;

    /// <summary>CUDA device id used when <see cref="Provider"/> is <see cref="ExecutionProvider.Cuda"/>.</summary>
    public int CudaDeviceId { get; init; }

    /// <summary>Where the session logs provider fallback; null logs nothing.</summary>
    public Microsoft.Extensions.Logging.ILogger? Logger { get; init; }
}
