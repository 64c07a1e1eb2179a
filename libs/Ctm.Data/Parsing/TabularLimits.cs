namespace Ctm.Data.Parsing;

/// <summary>
/// The bounds an input must stay within. A reader refuses the first thing that crosses one with a
/// <see cref="TabularFormatException"/> whose <see cref="TabularFormatException.Limit"/> names the bound and whose
/// line and column say where, so memory stays bounded by the limits, never by the input.
/// </summary>
public sealed record TabularLimits
{
    /// <summary>No bounds beyond what the runtime imposes (for trusted, already-stored inputs).</summary>
    public static readonly TabularLimits None = new()
    {
        MaxFieldChars = int.MaxValue,
        MaxColumns = int.MaxValue,
        MaxRows = long.MaxValue,
        MaxRecordChars = int.MaxValue,
        MaxJsonDepth = 64,
    };

    /// <summary>The longest field, in characters.</summary>
    public int MaxFieldChars { get; init; } = 65_536;

    /// <summary>The most columns a header (or a JSON Lines input's union of keys) may name.</summary>
    public int MaxColumns { get; init; } = 1_024;

    /// <summary>The most data rows.</summary>
    public long MaxRows { get; init; } = 10_000_000;

    /// <summary>The longest record (a CSV record, or a JSON Lines line), in characters.</summary>
    public int MaxRecordChars { get; init; } = 4 * 1024 * 1024;

    /// <summary>The deepest JSON nesting a reader accepts before it refuses the input.</summary>
    public int MaxJsonDepth { get; init; } = 64;
}
