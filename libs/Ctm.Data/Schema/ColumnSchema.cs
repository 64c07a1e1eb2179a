namespace Ctm.Data.Schema;

/// <summary>What the schema expects of one column.</summary>
public sealed record ColumnSchema
{
    /// <summary>The column name, as in the CSV header.</summary>
    public required string Name { get; init; }

    /// <summary>Numeric or categorical.</summary>
    public required ColumnType Type { get; init; }

    /// <summary>The smallest fraction of rows that must carry a value (1 = required, 0 = optional).</summary>
    public double MinPresence { get; init; } = 1;

    /// <summary>The allowed values of a categorical column, or null for any value.</summary>
    public IReadOnlyList<string>? Domain { get; init; }

    /// <summary>The fraction of values allowed outside <see cref="Domain"/> (TFDV's 1 − min_domain_mass).</summary>
    public double MaxOutOfDomainFraction { get; init; }

    /// <summary>The smallest expected value of a numeric column, or null for no bound.</summary>
    public double? Min { get; init; }

    /// <summary>The largest expected value of a numeric column, or null for no bound.</summary>
    public double? Max { get; init; }

    /// <summary>The fraction of values allowed outside [<see cref="Min"/>, <see cref="Max"/>].</summary>
    public double MaxOutOfRangeFraction { get; init; }

    /// <summary>True when NaN or infinite values are acceptable.</summary>
    public bool AllowNonFinite { get; init; }

    /// <summary>Drift thresholds for this column, or null for the validator's defaults.</summary>
    public DriftThresholds? Drift { get; init; }

    /// <summary>Skew thresholds for this column, or null for the validator's defaults.</summary>
    public DriftThresholds? Skew { get; init; }
}
