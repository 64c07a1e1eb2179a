using Ctm.Data.Schema;
using Ctm.Data.Statistics;

namespace Ctm.Data.Drift;

/// <summary>
/// Compares a feature's distribution between a reference (window or training baseline) and a current sample.
/// Numeric features are cut into bins at the reference's quantiles, aligned with the sketches' shared
/// buckets, so both sides' bin counts are exact; categorical features use value frequencies, with values too
/// rare to test lumped together.
/// </summary>
public static class DriftDetector
{
    /// <summary>Fewest values on either side for a comparison.</summary>
    public const int MinimumCount = 20;

    // Bins are chosen so that each expects at least this many of the smaller sample's values, which keeps the
    // chi-square approximation honest at small batch sizes.
    private const int MinExpectedPerBin = 10;
    private const int MaxNumericBins = 10;

    /// <summary>Compares two statistics of one column; null when either side has too few values or the types differ.</summary>
    public static DriftResult? Compare(ColumnStatistics reference, ColumnStatistics current)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(current);
        if (reference.Numeric is { } rn && current.Numeric is { } cn)
        {
            return CompareNumeric(reference.Name, rn.Sketch, cn.Sketch);
        }

        if (reference.Categorical is { } rc && current.Categorical is { } cc)
        {
            return CompareCategorical(reference.Name, rc, cc);
        }

        return null;
    }

    /// <summary>Compares two numeric sketches.</summary>
    public static DriftResult? CompareNumeric(string feature, QuantileSketch reference, QuantileSketch current)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(current);
        var m = reference.Count;
        var n = current.Count;
        if (m < MinimumCount || n < MinimumCount)
        {
            return null;
        }

        var bins = (int)Math.Clamp(Math.Min(m, n) / MinExpectedPerBin, 2, MaxNumericBins);
        var edges = new List<long>();
        for (var j = 1; j < bins; j++)
        {
            var key = reference.KeyAtRank((long)Math.Floor((double)j * m / bins) - 1);
            if (edges.Count == 0 || key > edges[^1])
            {
                edges.Add(key);
            }
        }

        var r = reference.CountBins(edges);
        var c = current.CountBins(edges);
        var (chi, df) = ChiSquare(r, c);
        double js = 0, psi = 0;
        var used = 0;
        for (var j = 0; j < r.Length; j++)
        {
            var p = (double)r[j] / m;
            var q = (double)c[j] / n;
            if (p + q == 0)
            {
                continue;
            }

            used++;
            var mid = (p + q) / 2;
            js += (p > 0 ? 0.5 * p * Math.Log2(p / mid) : 0) + (q > 0 ? 0.5 * q * Math.Log2(q / mid) : 0);
            // PSI is undefined for empty bins; the usual fix is a small floor on both proportions.
            var pp = Math.Max(p, 1e-4);
            var qq = Math.Max(q, 1e-4);
            psi += (qq - pp) * Math.Log(qq / pp);
        }

        return new DriftResult
        {
            Feature = feature,
            Type = ColumnType.Numeric,
            Distance = js,
            // JS ≈ χ²-divergence / 8 for near distributions, whose expectation under the null is (bins−1)(1/m+1/n).
            ExpectedNullDistance = Math.Max(0, used - 1) * ((1.0 / m) + (1.0 / n)) / (8 * Math.Log(2)),
            Psi = psi,
            ChiSquare = chi,
            DegreesOfFreedom = df,
            PValue = Probability.ChiSquareUpperTail(chi, df),
            ReferenceCount = m,
            CurrentCount = n,
        };
    }

    /// <summary>Compares two categorical value distributions.</summary>
    public static DriftResult? CompareCategorical(string feature, CategoricalStatistics reference, CategoricalStatistics current)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(current);
        var m = reference.Count;
        var n = current.Count;
        if (m < MinimumCount || n < MinimumCount)
        {
            return null;
        }

        var keys = reference.Counts.Keys.Union(current.Counts.Keys, StringComparer.Ordinal).ToList();
        double linf = 0;
        double noise = 0;
        long rOther = m, cOther = n;
        var r = new List<long>();
        var c = new List<long>();
        var small = Math.Min(m, n);
        foreach (var key in keys)
        {
            var rk = reference.CountOf(key);
            var ck = current.CountOf(key);
            rOther -= rk;
            cOther -= ck;
            linf = Math.Max(linf, Math.Abs(((double)rk / m) - ((double)ck / n)));
            var pooled = (double)(rk + ck) / (m + n);
            noise = Math.Max(noise, Math.Sqrt(pooled * (1 - pooled) * ((1.0 / m) + (1.0 / n))));
            if (pooled * small >= MinExpectedPerBin / 2.0)
            {
                r.Add(rk);
                c.Add(ck);
            }
        }

        // Untracked mass (Misra–Gries remainder) and the values too rare to test form one "other" bin.
        linf = Math.Max(linf, Math.Abs(((double)rOther / m) - ((double)cOther / n)));
        var rTested = r.Sum();
        var cTested = c.Sum();
        r.Add(m - rTested);
        c.Add(n - cTested);
        var (chi, df) = ChiSquare([.. r], [.. c]);
        return new DriftResult
        {
            Feature = feature,
            Type = ColumnType.Categorical,
            Distance = linf,
            // The largest category's standard error scaled to a typical maximum: a rough noise level for L∞.
            ExpectedNullDistance = 2 * noise,
            ChiSquare = chi,
            DegreesOfFreedom = df,
            PValue = Probability.ChiSquareUpperTail(chi, df),
            ReferenceCount = m,
            CurrentCount = n,
        };
    }

    // Pearson chi-square test of homogeneity for two samples over the same bins; empty bins are dropped.
    private static (double ChiSquare, int DegreesOfFreedom) ChiSquare(long[] reference, long[] current)
    {
        double m = reference.Sum();
        double n = current.Sum();
        var total = m + n;
        double chi = 0;
        var used = 0;
        for (var j = 0; j < reference.Length; j++)
        {
            var t = reference[j] + current[j];
            if (t == 0)
            {
                continue;
            }

            used++;
            var er = m * t / total;
            var ec = n * t / total;
            chi += ((reference[j] - er) * (reference[j] - er) / er) + ((current[j] - ec) * (current[j] - ec) / ec);
        }

        return (chi, Math.Max(0, used - 1));
    }
}
