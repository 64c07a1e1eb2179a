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

    /// <summary>|median(batch) − median(window)| in units of the window's IQR (mean and standard deviation where the sketch cannot resolve the IQR).</summary>
    public const string Location = "location";

    /// <summary>|ln(spread(batch) / spread(window))|: a unit change (×100) gives 4.6, natural variation a few tenths.</summary>
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

        var (location, rs, cs) = Spreads(r, c);
        if (rs > 0)
        {
            measures[Location] = location / rs;
            if (cs > 0)
            {
                measures[Scale] = Math.Abs(Math.Log(cs / rs));
            }
            else if (c.Count > 1)
            {
                // A batch whose values all collapsed to one is as far from the reference as a unit change.
                measures[Scale] = Math.Log(1000);
            }
        }

        return measures;
    }

    // Median and IQR where the sketch resolves them (its buckets are 1% of the value wide, too coarse for a spread
    // that is small next to the values, like air pressure around 1013); mean and standard deviation otherwise.
    // Both sides use the same pair, or the ratio would compare an IQR with a standard deviation.
    private static (double Location, double Reference, double Current) Spreads(NumericStatistics r, NumericStatistics c)
    {
        var (r25, r75, c25, c75) = (r.Quantile(0.25), r.Quantile(0.75), c.Quantile(0.25), c.Quantile(0.75));
        var ri = r75 - r25;
        var ci = c75 - c25;
        var resolved = ri > 0 && ci > 0
            && ri >= 0.2 * Math.Max(Math.Abs(r25), Math.Abs(r75))
            && ci >= 0.2 * Math.Max(Math.Abs(c25), Math.Abs(c75));
        return resolved
            ? (Math.Abs(c.Quantile(0.5) - r.Quantile(0.5)), ri, ci)
            : (Math.Abs(c.Mean - r.Mean), r.StandardDeviation, c.StandardDeviation);
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
