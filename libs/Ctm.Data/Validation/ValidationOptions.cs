using Ctm.Data.Schema;

namespace Ctm.Data.Validation;

/// <summary>Defaults for the checks; per-feature drift and skew thresholds in the schema override them.</summary>
public sealed record ValidationOptions
{
    /// <summary>Defaults.</summary>
    public static ValidationOptions Default { get; } = new();

    /// <summary>Drift thresholds for features whose schema entry has none.</summary>
    public DriftThresholds Drift { get; init; } = DriftThresholds.DefaultDrift;

    /// <summary>Skew thresholds for features whose schema entry has none.</summary>
    public DriftThresholds Skew { get; init; } = DriftThresholds.DefaultSkew;

    /// <summary>
    /// The p-value below which a presence, domain or range excess is real rather than the luck of a small
    /// batch (binomial tests against the schema's allowed fraction).
    /// </summary>
    public double Significance { get; init; } = 1e-4;

    /// <summary>A batch is "far from the usual" size when it is this many times smaller or larger than the window's mean batch.</summary>
    public double RowCountFactor { get; init; } = 3;

    /// <summary>Batches the window must summarize before row counts are judged.</summary>
    public int MinWindowBatchesForRowCount { get; init; } = 3;

    /// <summary>The fraction of rows allowed without a label.</summary>
    public double MaxMissingLabelFraction { get; init; }

    /// <summary>True to compare every feature with the window (drift); false to check the schema only.</summary>
    public bool CheckDrift { get; init; } = true;
}
