namespace Ctm.Contracts;

/// <summary>
/// The distribution of the serving version's predictions on a new batch moved away from its predictions on its first
/// batches (population stability index of the predicted probability, or of the predicted value for regression),
/// beyond what the dataset's own history of that index says is normal.
/// </summary>
public sealed record PredictionDriftDetected
{
    /// <summary>The dataset (model name).</summary>
    public required string Dataset { get; init; }
    /// <summary>The serving version whose predictions moved.</summary>
    public required int Version { get; init; }
    /// <summary>The batch whose predictions moved.</summary>
    public required Guid BatchId { get; init; }
    /// <summary>What was binned: <c>p(positive)</c>, <c>p(top class)</c> or <c>predicted value</c>.</summary>
    public required string Quantity { get; init; }
    /// <summary>The population stability index against the reference.</summary>
    public required double Psi { get; init; }
    /// <summary>The limit it crossed (calibrated from the history, at least the sampling-noise floor).</summary>
    public required double Limit { get; init; }
    /// <summary>The version's first batches that form the reference.</summary>
    public required int ReferenceBatches { get; init; }
    /// <summary>Rows in the batch.</summary>
    public required int Rows { get; init; }
    /// <summary>What happened, in one sentence with the numbers.</summary>
    public required string Sentence { get; init; }
    /// <summary>When it was detected.</summary>
    public required DateTimeOffset DetectedAt { get; init; }
    /// <summary>The batch's correlation id.</summary>
    public required Guid CorrelationId { get; init; }
}
