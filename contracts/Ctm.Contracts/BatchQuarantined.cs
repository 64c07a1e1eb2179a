namespace Ctm.Contracts;

/// <summary>A batch is held back from training, with every reason. An operator may release or discard it.</summary>
public sealed record BatchQuarantined
{
    /// <summary>The batch's id.</summary>
    public required Guid BatchId { get; init; }
    /// <summary>The dataset.</summary>
    public required string Dataset { get; init; }
    /// <summary>Correlation id of the batch.</summary>
    public required Guid CorrelationId { get; init; }
    /// <summary>Every reason found; each one's <c>Severity</c> says whether it blocked (<c>block</c>) or was only recorded (<c>warn</c>).</summary>
    public required IReadOnlyList<Anomaly> Reasons { get; init; }
    /// <summary>The schema version the batch was checked against.</summary>
    public int? SchemaVersion { get; init; }
    /// <summary>The operator who quarantined it after acceptance, if not the Validator.</summary>
    public string? Operator { get; init; }
    /// <summary>When the decision was made.</summary>
    public required DateTimeOffset QuarantinedAt { get; init; }
}
