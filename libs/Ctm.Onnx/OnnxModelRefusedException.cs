namespace Ctm.Onnx;

/// <summary>Why a model cannot be served: where it failed (<c>load</c>, <c>inputs</c> or <c>warm-up</c>) and ONNX Runtime's own reason.</summary>
public sealed class OnnxModelRefusedException(string stage, string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary><c>load</c> (ONNX Runtime rejects the file), <c>inputs</c> (an input cannot be fed as a tensor) or <c>warm-up</c> (the first run failed).</summary>
    public string Stage { get; } = stage;
}
