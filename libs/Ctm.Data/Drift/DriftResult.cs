using Ctm.Data.Schema;

namespace Ctm.Data.Drift;

/// <summary>
/// How one feature's distribution in a current sample compares with a reference sample, on shared bins.
/// <see cref="Distance"/> is the anchor measure (L-infinity for categorical, Jensen–Shannon divergence in bits for
/// numeric); <see cref="PValue"/> is the chi-square test of homogeneity, which accounts for both sample sizes.
/// </summary>
public sealed record DriftResult
{
    /// <summary>The feature compared.</summary>
    public required string Feature { get; init; }

    /// <summary>Its type.</summary>
    public required ColumnType Type { get; init; }

    /// <summary>L-infinity distance (categorical) or Jensen–Shannon divergence in bits (numeric).</summary>
    public required double Distance { get; init; }

    /// <summary>The name of the distance measure.</summary>
    public string Measure => Type == ColumnType.Numeric ? "Jensen-Shannon divergence" : "L-infinity distance";

    /// <summary>The distance two samples of these sizes from one distribution would typically show (pure sampling noise).</summary>
    public required double ExpectedNullDistance { get; init; }

    /// <summary>Population stability index on the same bins (numeric only; 0 for categorical).</summary>
    public double Psi { get; init; }

    /// <summary>Pearson chi-square statistic of the 2×bins table.</summary>
    public required double ChiSquare { get; init; }

    /// <summary>Degrees of freedom of the test.</summary>
    public required int DegreesOfFreedom { get; init; }

    /// <summary>P-value of the test: how likely a difference this large is between samples of one distribution.</summary>
    public required double PValue { get; init; }

    /// <summary>Values in the reference sample.</summary>
    public required long ReferenceCount { get; init; }

    /// <summary>Values in the current sample.</summary>
    public required long CurrentCount { get; init; }

    /// <summary>True when the change is both statistically real and larger than the effect floor.</summary>
    public bool Exceeds(DriftThresholds thresholds)
    {
        ArgumentNullException.ThrowIfNull(thresholds);
        return thresholds.Exceeds(this);
    }
}
