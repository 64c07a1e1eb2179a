namespace Ctm.Contracts;

/// <summary>
/// An operator's command: serve an earlier version, named directly or through corrupt batches (then every version
/// any of them influenced is tainted and the newest untainted one is served). The corrupt batches are named by id
/// (<see cref="CorruptBatchId"/>, <see cref="CorruptBatchIds"/>) and/or selected by when they were ingested
/// (<see cref="IngestedFrom"/>, <see cref="IngestedTo"/>) and where from (<see cref="Upstream"/>): the set is the
/// named batches plus the dataset's batches matching every given filter.
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
    /// <summary>Several batches to declare corrupt (with <see cref="CorruptBatchId"/>, if given, too).</summary>
    public IReadOnlyList<Guid>? CorruptBatchIds { get; init; }
    /// <summary>Selects the batches ingested at or after this time (with <see cref="IngestedTo"/>: in [from, to)).</summary>
    public DateTimeOffset? IngestedFrom { get; init; }
    /// <summary>Selects the batches ingested before this time.</summary>
    public DateTimeOffset? IngestedTo { get; init; }
    /// <summary>Selects the batches from this upstream (<see cref="BatchIngested.Upstream"/>), within the time range if one is given.</summary>
    public string? Upstream { get; init; }
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
    /// <summary>
    /// An operator's ECDSA P-256 signature (SHA-256, IEEE P1363, base64) over every other field
    /// (<c>Ctm.ServiceDefaults.Signing.SignedPayload.Rollback</c>). The Registry acts on a rollback from the bus only when
    /// it verifies with the configured operator key (<c>Signing:OperatorPublicKeyPem</c>); otherwise it refuses and audits it.
    /// </summary>
    public string? Signature { get; init; }
}
