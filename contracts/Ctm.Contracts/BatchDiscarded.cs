namespace Ctm.Contracts;

/// <summary>An operator discarded a quarantined batch: it is never trained on.</summary>
public sealed record BatchDiscarded
{
    /// <summary>The batch.</summary>
    public required Guid BatchId { get; init; }
    /// <summary>The dataset.</summary>
    public required string Dataset { get; init; }
    /// <summary>Who.</summary>
    public required string Operator { get; init; }
    /// <summary>Why.</summary>
    public required string Reason { get; init; }
    /// <summary>Correlation id.</summary>
    public required Guid CorrelationId { get; init; }
    /// <summary>When.</summary>
    public required DateTimeOffset DiscardedAt { get; init; }
}
