using System.ComponentModel.DataAnnotations;
using Ctm.Data.Schema;
using Ctm.Data.Validation;

namespace Ctm.Validator.Extensions;

/// <summary>
/// The Validator's defaults (section <c>Validation</c>); per-feature thresholds set through the API (feature <c>*</c> for a
/// dataset) override the drift and skew ones. The calibrated ones (<c>WarnDeviations</c> ... <c>SeedScale</c>) are
/// <see cref="DriftThresholds"/>' and documented there.
/// </summary>
public sealed class ValidatorOptions
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

    /// <summary>A categorical column with more distinct values than this gets no domain in an inferred schema (identifiers never get one).</summary>
    [Range(1, 1_000_000)]
    public int MaxDomainSize { get; set; } = SchemaInferenceOptions.Default.MaxDomainSize;

    /// <summary>A measure this many robust standard deviations above the dataset's historical median warns.</summary>
    [Range(0.5, 1000.0)]
    public double WarnDeviations { get; set; } = DriftThresholds.DefaultDrift.WarnDeviations;

    /// <summary>A measure this many robust standard deviations above the dataset's historical median blocks.</summary>
    [Range(0.5, 1000.0)]
    public double BlockDeviations { get; set; } = DriftThresholds.DefaultDrift.BlockDeviations;

    /// <summary>Accepted batches of history a measure needs before the empirical null judges it (seeded limits before).</summary>
    [Range(1, 1000)]
    public int MinHistory { get; set; } = DriftThresholds.DefaultDrift.MinHistory;

    /// <summary>The most recent accepted batches whose measures form the empirical null.</summary>
    [Range(1, 10_000)]
    public int HistoryBatches { get; set; } = DriftThresholds.DefaultDrift.HistoryBatches;

    /// <summary>How persistent a moderate shift must be to block (0 switches the rule off); see DriftThresholds.PersistBatches.</summary>
    [Range(0, 1000)]
    public int PersistBatches { get; set; } = DriftThresholds.DefaultDrift.PersistBatches;

    /// <summary>Accepted batches in a row without a new value after which a categorical domain counts as settled.</summary>
    [Range(1, 1000)]
    public int SettleBatches { get; set; } = DriftThresholds.DefaultDrift.SettleBatches;

    /// <summary>The least share of unseen values that blocks in a settled feature domain.</summary>
    [Range(0.0, 1.0)]
    public double UnseenBlockFloor { get; set; } = DriftThresholds.DefaultDrift.UnseenBlockFloor;

    /// <summary>The least share of unseen values that blocks in a young domain or the label's.</summary>
    [Range(0.0, 1.0)]
    public double YoungUnseenBlockFloor { get; set; } = DriftThresholds.DefaultDrift.YoungUnseenBlockFloor;

    /// <summary>The least share of values outside a numeric range that blocks (below it the range widens).</summary>
    [Range(0.0, 1.0)]
    public double OutOfRangeBlockFloor { get; set; } = DriftThresholds.DefaultDrift.OutOfRangeBlockFloor;

    /// <summary>While history is short: a median moved by this many reference spreads blocks.</summary>
    [Range(0.0, 1e6)]
    public double SeedLocation { get; set; } = DriftThresholds.DefaultDrift.SeedLocation;

    /// <summary>While history is short: a spread this many times larger or smaller than the reference's blocks.</summary>
    [Range(1.0, 1e6)]
    public double SeedScale { get; set; } = DriftThresholds.DefaultDrift.SeedScale;

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

    public DriftThresholds DefaultDrift => new()
    {
        Significance = DriftSignificance,
        JensenShannonFloor = DriftJensenShannonFloor,
        LInfinityFloor = DriftLInfinityFloor,
        WarnDeviations = WarnDeviations,
        BlockDeviations = BlockDeviations,
        MinHistory = MinHistory,
        HistoryBatches = HistoryBatches,
        PersistBatches = PersistBatches,
        SettleBatches = SettleBatches,
        UnseenBlockFloor = UnseenBlockFloor,
        YoungUnseenBlockFloor = YoungUnseenBlockFloor,
        OutOfRangeBlockFloor = OutOfRangeBlockFloor,
        SeedLocation = SeedLocation,
        SeedScale = SeedScale,
    };

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
