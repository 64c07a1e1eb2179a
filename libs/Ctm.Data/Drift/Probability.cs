namespace Ctm.Data.Drift;

/// <summary>Tail probabilities used by the sample-size-aware tests (chi-square, binomial).</summary>
public static class Probability
{
    /// <summary>P(X ≥ <paramref name="statistic"/>) for X chi-square distributed with <paramref name="degreesOfFreedom"/>.</summary>
    public static double ChiSquareUpperTail(double statistic, int degreesOfFreedom)
    {
        if (degreesOfFreedom <= 0 || statistic <= 0)
        {
            return 1;
        }

        return UpperRegularizedGamma(degreesOfFreedom / 2.0, statistic / 2);
    }

    /// <summary>P(X ≥ <paramref name="k"/>) for X ~ Binomial(<paramref name="n"/>, <paramref name="p"/>).</summary>
    public static double BinomialUpperTail(long k, long n, double p)
    {
        if (k <= 0)
        {
            return 1;
        }

        if (k > n || p <= 0)
        {
            return 0;
        }

        return p >= 1 ? 1 : RegularizedBeta(p, k, n - k + 1);
    }

    /// <summary>P(X ≤ <paramref name="k"/>) for X ~ Binomial(<paramref name="n"/>, <paramref name="p"/>).</summary>
    public static double BinomialLowerTail(long k, long n, double p) => k >= n ? 1 : 1 - BinomialUpperTail(k + 1, n, p);

    /// <summary>ln Γ(x) for x &gt; 0 (Lanczos, about 15 significant digits).</summary>
    public static double LogGamma(double x)
    {
        ReadOnlySpan<double> c =
        [
            57.1562356658629235, -59.5979603554754912, 14.1360979747417471, -0.491913816097620199,
            0.339946499848118887e-4, 0.465236289270485756e-4, -0.983744753048795646e-4, 0.158088703224912494e-3,
            -0.210264441724104883e-3, 0.217439618115212643e-3, -0.164318106536763890e-3, 0.844182239838527433e-4,
            -0.261908384015814087e-4, 0.368991826595316234e-5,
        ];
        var y = x;
        var tmp = x + 5.24218750000000000;
        tmp = ((x + 0.5) * Math.Log(tmp)) - tmp;
        var ser = 0.999999999999997092;
        foreach (var coefficient in c)
        {
            ser += coefficient / ++y;
        }

        return tmp + Math.Log(2.5066282746310005 * ser / x);
    }

    private static double UpperRegularizedGamma(double a, double x)
    {
        if (x < a + 1)
        {
            // Series for P(a, x).
            var ap = a;
            var sum = 1 / a;
            var del = sum;
            for (var n = 0; n < 10_000; n++)
            {
                ap++;
                del *= x / ap;
                sum += del;
                if (Math.Abs(del) < Math.Abs(sum) * 1e-15)
                {
                    break;
                }
            }

            return Math.Max(0, 1 - (sum * Math.Exp(-x + (a * Math.Log(x)) - LogGamma(a))));
        }

        // Continued fraction for Q(a, x) (modified Lentz).
        const double tiny = 1e-300;
        var b = x + 1 - a;
        var cc = 1 / tiny;
        var d = 1 / b;
        var h = d;
        for (var i = 1; i < 10_000; i++)
        {
            var an = -i * (i - a);
            b += 2;
            d = (an * d) + b;
            d = Math.Abs(d) < tiny ? tiny : d;
            cc = b + (an / cc);
            cc = Math.Abs(cc) < tiny ? tiny : cc;
            d = 1 / d;
            var del = d * cc;
            h *= del;
            if (Math.Abs(del - 1) < 1e-15)
            {
                break;
            }
        }

        return Math.Exp(-x + (a * Math.Log(x)) - LogGamma(a)) * h;
    }

    private static double RegularizedBeta(double x, double a, double b)
    {
        if (x <= 0)
        {
            return 0;
        }

        if (x >= 1)
        {
            return 1;
        }

        var front = Math.Exp(LogGamma(a + b) - LogGamma(a) - LogGamma(b) + (a * Math.Log(x)) + (b * Math.Log(1 - x)));
        return x < (a + 1) / (a + b + 2)
            ? front * BetaContinuedFraction(x, a, b) / a
            : 1 - (front * BetaContinuedFraction(1 - x, b, a) / b);
    }

    private static double BetaContinuedFraction(double x, double a, double b)
    {
        const double tiny = 1e-300;
        var qab = a + b;
        var qap = a + 1;
        var qam = a - 1;
        var c = 1.0;
        var d = 1 - (qab * x / qap);
        d = Math.Abs(d) < tiny ? tiny : d;
        d = 1 / d;
        var h = d;
        for (var m = 1; m < 10_000; m++)
        {
            var m2 = 2 * m;
            var aa = m * (b - m) * x / ((qam + m2) * (a + m2));
            d = 1 + (aa * d);
            d = Math.Abs(d) < tiny ? tiny : d;
            c = 1 + (aa / c);
            c = Math.Abs(c) < tiny ? tiny : c;
            d = 1 / d;
            h *= d * c;
            aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
            d = 1 + (aa * d);
            d = Math.Abs(d) < tiny ? tiny : d;
            c = 1 + (aa / c);
            c = Math.Abs(c) < tiny ? tiny : c;
            d = 1 / d;
            var del = d * c;
            h *= del;
            if (Math.Abs(del - 1) < 1e-15)
            {
                break;
            }
        }

        return h;
    }
}
