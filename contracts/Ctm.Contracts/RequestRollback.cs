namespace Ctm.Contracts;

/// <summary>
/// An operator's command: serve an earlier version, named directly or through a corrupt batch
/// (then every version that batch influenced is tainted and the newest untainted one is served).
/// </summary>
public sealed record RequestRollback
{
    /// <summary>Identifies the request; the same id twice has one effect.</summary>
    public required Guid RequestId { get; init; }
    /// <summary>The dataset.</summary>
    public required string Dataset { get; init; }
    /// <summary>The version to serve, or null when <see cref="CorruptBatchId"/> is given.</summary>
    public int? TargetVersion { get; init; }
    /// <summary>A batch to declare corrupt, or null when <see cref="TargetVersion"/> is given.</summary>
    public Guid? CorruptBatchId { get; init; }
    /// <summary>Why.</summary>
    public required string Reason { get; init; }
    /// <summary>Who asked.</summary>
    public required string Operator { get; init; }
    /// <summary>Allows rolling back to a tainted version.</summary>
    public bool Force { get; init; }
    /// <summary>After the rollback, request a retrain from the served version on the clean batches since.</summary>
    public bool Retrain { get; init; }
    /// <summary>Correlation id.</summary>
    public required Guid CorrelationId { get; init; }
}
