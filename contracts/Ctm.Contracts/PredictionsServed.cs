namespace Ctm.Contracts;

/// <summary>
/// A Predictor replica served these keyed predictions (HTTP or bus, serving, canary and shadow versions), gathered off
/// the request path by count and time. The Trainer keeps them for a window and joins labels that arrive later by key,
/// so quality is measured on what was actually served. Predictions without an example key are not reported.
/// </summary>
public sealed record PredictionsServed
{
    /// <summary>The dataset (model name).</summary>
    public required string Dataset { get; init; }
    /// <summary>The reporting replica.</summary>
    public required string Replica { get; init; }
    /// <summary>The predictions, each with its version and role.</summary>
    public required IReadOnlyList<ServedPrediction> Predictions { get; init; }
    /// <summary>Predictions this replica could not report since its last message (its queue was full or the bus refused), or null.</summary>
    public long? Dropped { get; init; }
    /// <summary>Correlation id.</summary>
    public required Guid CorrelationId { get; init; }
}
