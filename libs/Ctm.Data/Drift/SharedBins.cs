using Ctm.Data.Statistics;

namespace Ctm.Data.Drift;

/// <summary>
/// The bins a batch and its baseline are drawn on side by side (the drift picture, the console's histograms): numeric
/// features in equal-width bins over the range both sides mostly cover, categorical ones by their most common values.
/// </summary>
public static class SharedBins
{
    /// <summary>
    /// Equal-width bins over the 0.5 %–99.5 % quantiles of the sides given, so one outlier does not squeeze every other
    /// value into one bin; returns the low edge and the width of a bin.
    /// </summary>
    public static (double Low, double Width) NumericRange(NumericStatistics current, NumericStatistics? reference, int bins)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        var low = Math.Min(current.Quantile(0.005), reference?.Quantile(0.005) ?? double.PositiveInfinity);
        var high = Math.Max(current.Quantile(0.995), reference?.Quantile(0.995) ?? double.NegativeInfinity);
        if (!(high > low))
        {
            high = low + Math.Max(1e-9, Math.Abs(low) * 0.01);
        }

        return (low, (high - low) / bins);
    }

    /// <summary>The share of the sketch's values in each of <paramref name="bins"/> bins; values beyond the range count in the end bins.</summary>
    public static double[] Proportions(QuantileSketch sketch, double low, double width, int bins)
    {
        ArgumentNullException.ThrowIfNull(sketch);
        var shares = new double[bins];
        foreach (var (key, count) in sketch.Buckets())
        {
            var bin = (int)Math.Clamp(Math.Floor((QuantileSketch.RepresentativeValue(key) - low) / width), 0, bins - 1);
            shares[bin] += count;
        }

        for (var j = 0; j < shares.Length; j++)
        {
            shares[j] /= Math.Max(1, sketch.Count);
        }

        return shares;
    }

    /// <summary>The values of either side, most common first (by the larger of the two shares), at most <paramref name="max"/>.</summary>
    public static string[] TopCategories(CategoricalStatistics current, CategoricalStatistics? reference, int max)
    {
        ArgumentNullException.ThrowIfNull(current);
        return [.. current.Counts.Keys.Union(reference?.Counts.Keys ?? Enumerable.Empty<string>(), StringComparer.Ordinal)
            .OrderByDescending(k => Math.Max(Share(current, k), reference is null ? 0 : Share(reference, k)))
            .ThenBy(k => k, StringComparer.Ordinal)
            .Take(max)];
    }

    /// <summary>The share of <paramref name="statistics"/>' values equal to <paramref name="value"/>.</summary>
    public static double Share(CategoricalStatistics statistics, string value)
    {
        ArgumentNullException.ThrowIfNull(statistics);
        return (double)statistics.CountOf(value) / statistics.Count;
    }
}
