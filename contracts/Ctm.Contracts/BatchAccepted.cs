namespace Ctm.Contracts;

/// <summary>The Validator found a batch fit to train on (or an operator released it from quarantine).</summary>
public sealed record BatchAccepted
{
    /// <summary>The batch's id.</summary>
    public required Guid BatchId { get; init; }
    /// <summary>The dataset.</summary>
    public required string Dataset { get; init; }
    /// <summary>Correlation id of the batch.</summary>
    public required Guid CorrelationId { get; init; }
    /// <summary>Number of data rows.</summary>
    public required long RowCount { get; init; }
    /// <summary>SHA-256 of the stored rows.</summary>
    public required string Sha256 { get; init; }
    /// <summary>Where Ingest serves the rows.</summary>
    public required string Location { get; init; }
    /// <summary>The schema version the batch was validated against.</summary>
    public required int SchemaVersion { get; init; }
    /// <summary>Feature columns of that schema (the label excluded).</summary>
    public required IReadOnlyList<ColumnSpec> Features { get; init; }
    /// <summary>The label column.</summary>
    public required string LabelColumn { get; init; }
    /// <summary><c>binary</c>, <c>multiclass</c> or <c>regression</c> on the wire.</summary>
    public required TaskKind Task { get; init; }
    /// <summary>True when an operator released the batch from quarantine.</summary>
    public bool Released { get; init; }
    /// <summary>When the decision was made.</summary>
    public required DateTimeOffset AcceptedAt { get; init; }
    /// <summary>Warnings recorded with the decision (severity <c>warn</c>): shifts within the dataset's usual spread, domains or ranges widened; null or empty when none.</summary>
    public IReadOnlyList<Anomaly>? Warnings { get; init; }
}
