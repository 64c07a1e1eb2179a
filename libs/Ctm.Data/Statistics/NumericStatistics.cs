namespace Ctm.Data.Statistics;

/// <summary>
/// Statistics of the numeric values of one column, built in one pass in constant memory and mergeable:
/// counts, mean and standard deviation (Welford, merged with Chan's formula), extremes and a
/// <see cref="QuantileSketch"/> that also serves as the histogram.
/// </summary>
public sealed class NumericStatistics
{
    /// <summary>Finite values seen.</summary>
    public long Count { get; set; }

    /// <summary>Values equal to zero.</summary>
    public long Zeros { get; set; }

    /// <summary>NaN values.</summary>
    public long NaN { get; set; }

    /// <summary>Positive or negative infinities.</summary>
    public long Infinity { get; set; }

    /// <summary>Mean of the finite values (0 when there are none).</summary>
    public double Mean { get; set; }

    /// <summary>Sum of squared deviations from the mean (Welford's M2).</summary>
    public double SumSquaredDeviations { get; set; }

    /// <summary>Smallest finite value (+∞ when there are none).</summary>
    public double Min { get; set; } = double.PositiveInfinity;

    /// <summary>Largest finite value (−∞ when there are none).</summary>
    public double Max { get; set; } = double.NegativeInfinity;

    /// <summary>Quantiles and histogram of the finite values.</summary>
    public QuantileSketch Sketch { get; set; } = new();

    /// <summary>Population standard deviation of the finite values.</summary>
    public double StandardDeviation => Count > 0 ? Math.Sqrt(SumSquaredDeviations / Count) : 0;

    /// <summary>NaN and infinite values together.</summary>
    public long NonFinite => NaN + Infinity;

    /// <summary>Adds one value.</summary>
    public void Add(double value)
    {
        if (!double.IsFinite(value))
        {
            if (double.IsNaN(value))
            {
                NaN++;
            }
            else
            {
                Infinity++;
            }

            return;
        }

        Count++;
        var delta = value - Mean;
        Mean += delta / Count;
        SumSquaredDeviations += delta * (value - Mean);
        if (value < Min)
        {
            Min = value;
        }

        if (value > Max)
        {
            Max = value;
        }

        if (value == 0)
        {
            Zeros++;
        }

        Sketch.Add(value);
    }

    /// <summary>
    /// Fills the moments from sums taken around a shift (the first value), which the builder accumulates
    /// without a division per value; the shift keeps the variance free of catastrophic cancellation.
    /// </summary>
    internal void SetMoments(long count, double shift, double sum, double sumOfSquares)
    {
        Count = count;
        if (count == 0)
        {
            return;
        }

        var meanOffset = sum / count;
        Mean = shift + meanOffset;
        SumSquaredDeviations = Math.Max(0, sumOfSquares - (sum * meanOffset));
    }

    /// <summary>Adds the values summarized by <paramref name="other"/>.</summary>
    public void Merge(NumericStatistics other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Count > 0)
        {
            var n = Count + other.Count;
            var delta = other.Mean - Mean;
            Mean += delta * other.Count / n;
            SumSquaredDeviations += other.SumSquaredDeviations + (delta * delta * Count * other.Count / n);
            Count = n;
            Min = Math.Min(Min, other.Min);
            Max = Math.Max(Max, other.Max);
        }

        Zeros += other.Zeros;
        NaN += other.NaN;
        Infinity += other.Infinity;
        Sketch.Merge(other.Sketch);
    }

    /// <summary>A deep copy.</summary>
    public NumericStatistics Clone() => new()
    {
        Count = Count,
        Zeros = Zeros,
        NaN = NaN,
        Infinity = Infinity,
        Mean = Mean,
        SumSquaredDeviations = SumSquaredDeviations,
        Min = Min,
        Max = Max,
        Sketch = Sketch.Clone(),
    };

    /// <summary>The value at quantile <paramref name="q"/>, within <see cref="QuantileSketch.RelativeAccuracy"/>.</summary>
    public double Quantile(double q) => Sketch.Quantile(q);

    /// <summary>An equal-width histogram of the finite values over [<see cref="Min"/>, <see cref="Max"/>], from the sketch.</summary>
    public IReadOnlyList<HistogramBin> Histogram(int bins = 10)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        if (Count == 0)
        {
            return [];
        }

        var width = (Max - Min) / bins;
        var counts = new long[bins];
        foreach (var (key, count) in Sketch.Buckets())
        {
            var value = Math.Clamp(QuantileSketch.RepresentativeValue(key), Min, Max);
            var bin = width > 0 ? Math.Min(bins - 1, (int)((value - Min) / width)) : 0;
            counts[bin] += count;
        }

        var result = new HistogramBin[bins];
        for (var i = 0; i < bins; i++)
        {
            result[i] = new HistogramBin(Min + (i * width), i == bins - 1 ? Max : Min + ((i + 1) * width), counts[i]);
        }

        return result;
    }
}

/// <summary>One bin of a histogram: values in [Low, High) (the last bin includes High).</summary>
/// <param name="Low">Lower edge.</param>
/// <param name="High">Upper edge.</param>
/// <param name="Count">Number of values.</param>
public sealed record HistogramBin(double Low, double High, long Count);
