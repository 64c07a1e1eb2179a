namespace Ctm.Contracts;

/// <summary>
/// An operator declared a batch corrupt (through a rollback). It must never be trained on again, and every
/// version it influenced is tainted.
/// </summary>
public sealed record BatchDeclaredCorrupt
{
    /// <summary>The batch.</summary>
    public required Guid BatchId { get; init; }
    /// <summary>The dataset.</summary>
    public required string Dataset { get; init; }
    /// <summary>Who declared it.</summary>
    public required string Operator { get; init; }
    /// <summary>Why.</summary>
    public required string Reason { get; init; }
    /// <summary>The versions tainted by it (directly or through warm-start parents).</summary>
    public required IReadOnlyList<int> TaintedVersions { get; init; }
    /// <summary>Correlation id of the rollback request.</summary>
    public required Guid CorrelationId { get; init; }
    /// <summary>When.</summary>
    public required DateTimeOffset DeclaredAt { get; init; }
}
