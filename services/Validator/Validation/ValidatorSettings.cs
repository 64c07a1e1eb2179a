using System.ComponentModel.DataAnnotations;
using Ctm.Data.Schema;
using Ctm.Data.Validation;

namespace Ctm.Validator.Validation;

/// <summary>The Validator's defaults (section <c>Validation</c>); per-feature thresholds set through the API override the drift and skew ones.</summary>
public sealed class ValidatorSettings
{
    public const string Section = "Validation";

    /// <summary>How many of the most recent accepted batches form the drift window.</summary>
    [Range(1, 1000)]
    public int WindowBatches { get; set; } = 10;

    /// <summary>P-value below which a presence, domain or range excess is real.</summary>
    [Range(1e-12, 0.5)]
    public double Significance { get; set; } = 1e-4;

    /// <summary>A batch is far from the usual size when this many times smaller or larger than the window's mean.</summary>
    [Range(1.0, 1000.0)]
    public double RowCountFactor { get; set; } = 3;

    /// <summary>Batches in the window before row counts are judged.</summary>
    [Range(1, 1000)]
    public int MinWindowBatchesForRowCount { get; set; } = 3;

    /// <summary>Fraction of rows allowed without a label.</summary>
    [Range(0.0, 1.0)]
    public double MaxMissingLabelFraction { get; set; }

    /// <summary>A categorical column with more distinct values than this gets no domain in an inferred schema.</summary>
    [Range(1, 1000)]
    public int MaxDomainSize { get; set; } = 100;

    /// <summary>Default drift p-value threshold.</summary>
    [Range(1e-12, 0.5)]
    public double DriftSignificance { get; set; } = DriftThresholds.DefaultDrift.Significance;

    /// <summary>Default smallest Jensen–Shannon divergence (bits) that counts as drift for a numeric feature.</summary>
    [Range(0.0, 1.0)]
    public double DriftJensenShannonFloor { get; set; } = DriftThresholds.DefaultDrift.JensenShannonFloor;

    /// <summary>Default smallest L-infinity distance that counts as drift for a categorical feature.</summary>
    [Range(0.0, 1.0)]
    public double DriftLInfinityFloor { get; set; } = DriftThresholds.DefaultDrift.LInfinityFloor;

    /// <summary>Default skew p-value threshold.</summary>
    [Range(1e-12, 0.5)]
    public double SkewSignificance { get; set; } = DriftThresholds.DefaultSkew.Significance;

    /// <summary>Default smallest Jensen–Shannon divergence (bits) that counts as skew.</summary>
    [Range(0.0, 1.0)]
    public double SkewJensenShannonFloor { get; set; } = DriftThresholds.DefaultSkew.JensenShannonFloor;

    /// <summary>Default smallest L-infinity distance that counts as skew.</summary>
    [Range(0.0, 1.0)]
    public double SkewLInfinityFloor { get; set; } = DriftThresholds.DefaultSkew.LInfinityFloor;

    public DriftThresholds DefaultDrift => new() { Significance = DriftSignificance, JensenShannonFloor = DriftJensenShannonFloor, LInfinityFloor = DriftLInfinityFloor };

    public DriftThresholds DefaultSkew => new() { Significance = SkewSignificance, JensenShannonFloor = SkewJensenShannonFloor, LInfinityFloor = SkewLInfinityFloor };

    public ValidationOptions ToOptions() => new()
    {
        Drift = DefaultDrift,
        Skew = DefaultSkew,
        Significance = Significance,
        RowCountFactor = RowCountFactor,
        MinWindowBatchesForRowCount = MinWindowBatchesForRowCount,
        MaxMissingLabelFraction = MaxMissingLabelFraction,
    };

    public SchemaInferenceOptions ToInferenceOptions() => new() { MaxDomainSize = MaxDomainSize };
}
