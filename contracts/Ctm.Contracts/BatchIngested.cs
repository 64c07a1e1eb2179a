namespace Ctm.Contracts;

/// <summary>
/// Ingest stored a batch durably. A claim check: the rows stay with Ingest at <see cref="Location"/>;
/// the message carries what is needed to fetch and verify them.
/// </summary>
public sealed record BatchIngested
{
    /// <summary>The batch's id, unique across datasets.</summary>
    public required Guid BatchId { get; init; }
    /// <summary>The dataset the batch belongs to.</summary>
    public required string Dataset { get; init; }
    /// <summary>Ties together every message caused by this batch.</summary>
    public required Guid CorrelationId { get; init; }
    /// <summary>Number of data rows.</summary>
    public required long RowCount { get; init; }
    /// <summary>Lower-case hex SHA-256 of the stored canonical CSV bytes at <see cref="Location"/>.</summary>
    public required string Sha256 { get; init; }
    /// <summary>Size in bytes of the stored canonical CSV.</summary>
    public required long ByteCount { get; init; }
    /// <summary>Absolute URL of Ingest's API that serves the rows as canonical CSV.</summary>
    public required string Location { get; init; }
    /// <summary>Column names, in order.</summary>
    public required IReadOnlyList<string> Columns { get; init; }
    /// <summary>How the batch arrived: <c>http</c> or <c>bus</c>.</summary>
    public required string Source { get; init; }
    /// <summary>
    /// The upstream system that produced the rows, as its producer named it (the <c>source</c> query parameter of an
    /// upload, the <c>source</c> field of a row event); null when not named. Rollbacks can select batches by it.
    /// </summary>
    public string? Upstream { get; init; }
    /// <summary>When Ingest committed the batch.</summary>
    public required DateTimeOffset IngestedAt { get; init; }
}
