using Ctm.Data.Schema;
using Ctm.Data.Statistics;

namespace Ctm.Data.Drift;

/// <summary>
/// The distances a batch is judged by, per feature, against its reference window and the schema. Each accepted
/// batch's measures are kept; the spread of the history is the dataset's empirical null (<see cref="EmpiricalNull"/>).
/// </summary>
public static class Measures
{
    /// <summary>Jensen–Shannon divergence in bits (numeric) or L-infinity distance of frequencies (categorical), batch against window.</summary>
    public const string Distance = "distance";

    /// <summary>
    /// The batch's location shift in window standard deviations: the smaller of |Δmean| / sd and |Δmedian| / (IQR / 1.349)
    /// (the latter only where the sketch resolves the IQR), so neither an outlier nor an integer step alone makes a shift.
    /// </summary>
    public const string Location = "location";

    /// <summary>|ln(spread(batch) / spread(window))|, the smaller of the standard-deviation and IQR ratios: a unit change (×100) gives 4.6, natural variation a few tenths.</summary>
    public const string Scale = "scale";

    /// <summary>|mean(batch) − mean(window)| in window standard deviations (a numeric label's rate).</summary>
    public const string Mean = "mean";

    /// <summary>The share of a categorical column's values outside the schema's domain.</summary>
    public const string Unseen = "unseen";

    /// <summary>The share of a numeric column's values outside the schema's range.</summary>
    public const string OutOfRange = "outOfRange";

    /// <summary>
    /// The smallest spread a measure's null is given, so that a history of identical values does not turn the
    /// smallest change into an alarm: about the sampling noise of the measure at a few hundred rows.
    /// </summary>
    public static double SpreadFloor(string measure) => measure switch
    {
        Distance => 0.003,
        Unseen or OutOfRange => 0.005,
        _ => 0.03,
    };

    /// <summary>
    /// The sampling noise of a measure between a batch of <paramref name="current"/> values and a window of
    /// <paramref name="reference"/> values drawn from one distribution: the least spread its null may have, so that a
    /// history of identical values (an integer median that rarely moves) does not make one step an alarm.
    /// </summary>
    public static double Noise(string measure, DriftResult? result, long reference, long current)
    {
        var n = Math.Max(1, current);
        var m = Math.Max(1, reference);
        return measure switch
        {
            // The expected null distance is a typical value (categorical: two standard errors), not a standard deviation.
            Distance => (result?.ExpectedNullDistance ?? 0) / 2,
            Location or Mean => Math.Sqrt((1.0 / n) + (1.0 / m)),
            // ln of a standard-deviation ratio: √(1/2n + 1/2m) for normal data, half again for heavier tails.
            Scale => 1.5 * Math.Sqrt((0.5 / n) + (0.5 / m)),
            _ => 0,
        };
    }

    /// <summary>
    /// The distribution measures of one column, batch (<paramref name="current"/>) against reference: numeric
    /// columns get <see cref="Distance"/>, <see cref="Location"/> and <see cref="Scale"/> (a label gets
    /// <see cref="Distance"/> and <see cref="Mean"/>); categorical ones <see cref="Distance"/>. Empty when a side is too small.
    /// </summary>
    /// <param name="reference">The reference window's statistics of the column.</param>
    /// <param name="current">The batch's statistics of the column.</param>
    /// <param name="isLabel">True for the label column.</param>
    /// <param name="result">The drift comparison behind <see cref="Distance"/>, or null.</param>
    public static Dictionary<string, double> Compare(ColumnStatistics reference, ColumnStatistics current, bool isLabel, out DriftResult? result)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(current);
        var measures = new Dictionary<string, double>(StringComparer.Ordinal);
        result = DriftDetector.Compare(reference, current);
        if (result is null)
        {
            return measures;
        }

        measures[Distance] = result.Distance;
        if (reference.Numeric is not { } r || current.Numeric is not { } c)
        {
            return measures;
        }

        if (isLabel)
        {
            if (r.StandardDeviation > 0)
            {
                measures[Mean] = Math.Abs(c.Mean - r.Mean) / r.StandardDeviation;
            }

            return measures;
        }

        if (r.StandardDeviation <= 0)
        {
            return measures;
        }

        // Two views of location and spread: moments (exact, continuous even for integer counts, but an outlier moves
        // them) and median and IQR (robust, but stepwise for integer values and, from the sketch, only resolved where
        // the spread is wide next to the values). A change counts as much as the view that sees the least of it.
        var location = Math.Abs(c.Mean - r.Mean) / r.StandardDeviation;
        var scale = c.StandardDeviation > 0 ? Math.Abs(Math.Log(c.StandardDeviation / r.StandardDeviation)) : Math.Log(1000);
        if (Robust(r) is { } rr && Robust(c) is { } cr)
        {
            location = Math.Min(location, Math.Abs(cr.Median - rr.Median) / rr.Sd);
            scale = Math.Min(scale, Math.Abs(Math.Log(cr.Sd / rr.Sd)));
        }

        measures[Location] = location;
        measures[Scale] = scale;
        return measures;
    }

    // Median and IQR as a standard deviation (IQR / 1.349 for a normal), where the sketch's 1%-wide buckets resolve the IQR.
    private static (double Median, double Sd)? Robust(NumericStatistics n)
    {
        var (q25, q75) = (n.Quantile(0.25), n.Quantile(0.75));
        var iqr = q75 - q25;
        return iqr > 0 && iqr >= 0.2 * Math.Max(Math.Abs(q25), Math.Abs(q75)) ? (n.Quantile(0.5), iqr / 1.349) : null;
    }

    /// <summary>The share of <paramref name="stats"/>' values outside <paramref name="column"/>'s domain, with the unseen values most frequent first; null without a domain.</summary>
    public static (double Share, long Outside, IReadOnlyList<string> Values, bool Complete)? OutsideDomain(ColumnSchema column, ColumnStatistics stats)
    {
        ArgumentNullException.ThrowIfNull(column);
        ArgumentNullException.ThrowIfNull(stats);
        if (column.Domain is not { } domain || stats.Categorical is not { Count: > 0 } categorical)
        {
            return null;
        }

        var allowed = new HashSet<string>(domain, StringComparer.Ordinal);
        var outside = categorical.Count - domain.Sum(categorical.CountOf);
        var values = categorical.Counts.Where(kv => !allowed.Contains(kv.Key)).OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key).ToList();
        return ((double)outside / categorical.Count, outside, values, categorical.IsExact);
    }

    /// <summary>The share of <paramref name="stats"/>' values outside <paramref name="column"/>'s range, at the sketch's 1% resolution; null without a range.</summary>
    public static (double Share, long Outside)? OutsideRange(ColumnSchema column, ColumnStatistics stats)
    {
        ArgumentNullException.ThrowIfNull(column);
        ArgumentNullException.ThrowIfNull(stats);
        if (stats.Numeric is not { Count: > 0 } numeric || (column.Min is null && column.Max is null))
        {
            return null;
        }

        long outside = 0;
        if (column.Min is { } min && numeric.Min < min)
        {
            outside += numeric.Sketch.CountBelowKey(QuantileSketch.KeyOf(min));
        }

        if (column.Max is { } max && numeric.Max > max)
        {
            outside += numeric.Sketch.CountAboveKey(QuantileSketch.KeyOf(max));
        }

        return ((double)outside / numeric.Count, outside);
    }
}
