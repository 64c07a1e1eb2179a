namespace Ctm.Data.Schema;

/// <summary>
/// When a distribution change counts as drift (or skew). Both conditions must hold, so the decision is
/// sample-size aware: the change must be statistically real (a chi-square test of homogeneity on shared
/// bins, whose null distribution accounts for both sample sizes) and large enough to matter (an effect-size
/// floor, so huge batches do not alarm on negligible differences).
/// </summary>
public sealed record DriftThresholds
{
    /// <summary>Defaults for drift: batch against the recent accepted window.</summary>
    public static DriftThresholds DefaultDrift { get; } = new();

    /// <summary>Defaults for skew: training baseline against serving statistics.</summary>
    public static DriftThresholds DefaultSkew { get; } = new();

    /// <summary>The p-value below which a difference is considered real (per feature; default 1e-4, so about 0.3% of clean 26-feature batches may alarm at worst).</summary>
    public double Significance { get; init; } = 1e-4;

    /// <summary>The smallest Jensen–Shannon divergence (bits, 0 to 1) on shared bins that counts for a numeric feature.</summary>
    public double JensenShannonFloor { get; init; } = 0.01;

    /// <summary>The smallest L-infinity distance between category frequencies that counts for a categorical feature.</summary>
    public double LInfinityFloor { get; init; } = 0.03;

    /// <summary>False to switch the check off for the feature.</summary>
    public bool Enabled { get; init; } = true;
}
