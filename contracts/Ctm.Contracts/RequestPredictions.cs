namespace Ctm.Contracts;

/// <summary>
/// A command: predict these keyed instances (batch prediction over the bus). Consumed by one Predictor replica
/// (competing consumers); answered by one <see cref="PredictionsComputed"/> per chunk, in any order.
/// </summary>
public sealed record RequestPredictions
{
    /// <summary>Identifies the request; every result chunk carries it.</summary>
    public required Guid RequestId { get; init; }
    /// <summary>The dataset (model name).</summary>
    public required string Dataset { get; init; }
    /// <summary>A version to pin, or null for the version serving now.</summary>
    public int? Version { get; init; }
    /// <summary>The instances, each with the caller's key.</summary>
    public required IReadOnlyList<KeyedInstance> Instances { get; init; }
    /// <summary>Instances per result message (default 500).</summary>
    public int? ChunkSize { get; init; }
    /// <summary>Correlation id.</summary>
    public required Guid CorrelationId { get; init; }
}
