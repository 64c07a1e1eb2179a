namespace Ctm.Data.Drift;

/// <summary>
/// A measure's usual spread, learned from the values accepted batches showed: the median and the MAD scaled to
/// a normal standard deviation (1.4826 × MAD). Robust: a few odd batches in the history move neither.
/// </summary>
/// <param name="Median">The median of the history.</param>
/// <param name="Spread">The robust standard deviation, at least the measure's floor.</param>
/// <param name="Count">How many batches the history holds.</param>
public sealed record EmpiricalNull(double Median, double Spread, int Count)
{
    /// <summary>The null of <paramref name="history"/>, with the spread at least <paramref name="spreadFloor"/>.</summary>
    public static EmpiricalNull Fit(IReadOnlyList<double> history, double spreadFloor)
    {
        ArgumentNullException.ThrowIfNull(history);
        if (history.Count == 0)
        {
            return new EmpiricalNull(0, spreadFloor, 0);
        }

        var median = MedianOf(history);
        var mad = MedianOf([.. history.Select(v => Math.Abs(v - median))]);
        return new EmpiricalNull(median, Math.Max(1.4826 * mad, spreadFloor), history.Count);
    }

    /// <summary>
    /// The value <paramref name="deviations"/> robust standard deviations above the median, widened by 1 + 3/n for a
    /// history of n batches: a short history has not yet seen the dataset's rarer states (a weekly peak, a weather
    /// regime), and its median and MAD are themselves uncertain.
    /// </summary>
    public double Limit(double deviations) => Median + (deviations * Widened);

    /// <summary>How many (widened) robust standard deviations <paramref name="value"/> lies above the median.</summary>
    public double Deviations(double value) => (value - Median) / Widened;

    /// <summary>The spread widened for a short history: <see cref="Spread"/> × (1 + 3/n).</summary>
    public double Widened => Spread * (1 + (3.0 / Math.Max(1, Count)));

    /// <summary>The median of <paramref name="values"/> (0 when empty).</summary>
    public static double MedianOf(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0)
        {
            return 0;
        }

        var sorted = values.Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
