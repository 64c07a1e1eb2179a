namespace Ctm.Contracts;

/// <summary>One chunk of the answer to a <see cref="RequestPredictions"/>. Chunks arrive in any order; a redelivered request may repeat a chunk (deduplicate by request id and chunk index).</summary>
public sealed record PredictionsComputed
{
    /// <summary>The request this answers.</summary>
    public required Guid RequestId { get; init; }
    /// <summary>The dataset (model name).</summary>
    public required string Dataset { get; init; }
    /// <summary>The version that computed this chunk, or null if no version could serve it.</summary>
    public int? ModelVersion { get; init; }
    /// <summary>Zero-based index of this chunk.</summary>
    public required int ChunkIndex { get; init; }
    /// <summary>How many chunks the request has.</summary>
    public required int ChunkCount { get; init; }
    /// <summary>The predictions of this chunk, keyed.</summary>
    public required IReadOnlyList<KeyedPrediction> Predictions { get; init; }
    /// <summary>The replica that computed it.</summary>
    public required string Replica { get; init; }
    /// <summary>Correlation id of the request.</summary>
    public required Guid CorrelationId { get; init; }
}
