namespace Ctm.Contracts;

/// <summary>One column of a dataset's schema.</summary>
public sealed record ColumnSpec
{
    /// <summary>The column name.</summary>
    public required string Name { get; init; }
    /// <summary><c>numeric</c> or <c>categorical</c> on the wire.</summary>
    public required ColumnKind Kind { get; init; }
}
