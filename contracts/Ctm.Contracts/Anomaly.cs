namespace Ctm.Contracts;

/// <summary>One reason a batch was quarantined, or a warning recorded with an accepted batch.</summary>
public sealed record Anomaly
{
    /// <summary>The feature (column) concerned, or null for the batch as a whole.</summary>
    public string? Feature { get; init; }
    /// <summary>The kind, e.g. <c>missing-column</c>, <c>type-mismatch</c>, <c>drift</c>.</summary>
    public required string Kind { get; init; }
    /// <summary>The measured value, when the anomaly is a measurement.</summary>
    public double? Measured { get; init; }
    /// <summary>The threshold it was compared with.</summary>
    public double? Threshold { get; init; }
    /// <summary>A sentence a person can read.</summary>
    public required string Description { get; init; }
    /// <summary><c>block</c> (the batch is quarantined for it) or <c>warn</c> (recorded, not blocking); null from Validators before severities (block).</summary>
    public string? Severity { get; init; }
}
