namespace Ctm.Contracts;

/// <summary>
/// A Predictor replica refused or could not load a version (hash mismatch, unreadable artifact, a model ONNX Runtime
/// rejects); the version it was serving before keeps serving. For the Registry's audit and for operators.
/// </summary>
public sealed record ModelLoadFailed
{
    /// <summary>The dataset (model name).</summary>
    public required string Dataset { get; init; }
    /// <summary>The version that failed.</summary>
    public required int Version { get; init; }
    /// <summary>The promotion's generation, or 0 for a version loaded on request (canary, shadow).</summary>
    public required long Generation { get; init; }
    /// <summary>The replica that failed to load it.</summary>
    public required string Replica { get; init; }
    /// <summary><c>hash-mismatch</c>, <c>download-failed</c>, <c>invalid-model</c>, or <c>forged</c> (a promotion without a valid Registry signature).</summary>
    public required string Kind { get; init; }
    /// <summary>What went wrong, for a human.</summary>
    public required string Reason { get; init; }
    /// <summary>The version still serving on that replica, or null if none.</summary>
    public int? ServingVersion { get; init; }
    /// <summary>When the load failed.</summary>
    public required DateTimeOffset FailedAt { get; init; }
    /// <summary>Correlation id of the promotion that asked for the load.</summary>
    public required Guid CorrelationId { get; init; }
}
