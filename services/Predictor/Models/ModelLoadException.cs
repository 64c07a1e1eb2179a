namespace Ctm.Predictor.Models;

/// <summary>Why a version could not be loaded: <c>hash-mismatch</c>, <c>download-failed</c> or <c>invalid-model</c>.</summary>
public sealed class ModelLoadException(string kind, string message, Exception? inner = null) : Exception(message, inner)
{
    public string Kind { get; } = kind;
}
