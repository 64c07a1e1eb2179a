using Ctm.Data.Drift;

namespace Ctm.Data.Tests.Drift;

public sealed class ProbabilityTests
{
    [Theory]
    [InlineData(3.841458820694124, 1, 0.05)]
    [InlineData(16.918977604620448, 9, 0.05)]
    [InlineData(33.71994844, 9, 1e-4)]
    [InlineData(2.0, 2, 0.36787944117144233)]
    public void ChiSquareUpperTail_KnownQuantiles(double x, int df, double p) =>
        Assert.Equal(p, Probability.ChiSquareUpperTail(x, df), 6);

    [Fact]
    public void BinomialTails_MatchDirectSums()
    {
        const int n = 40;
        const double p = 0.13;
        for (var k = 0; k <= n; k++)
        {
            var upper = Enumerable.Range(k, n - k + 1).Sum(i => Pmf(i, n, p));
            var lower = Enumerable.Range(0, k + 1).Sum(i => Pmf(i, n, p));
            Assert.Equal(upper, Probability.BinomialUpperTail(k, n, p), 9);
            Assert.Equal(lower, Probability.BinomialLowerTail(k, n, p), 9);
        }
    }

    private static double Pmf(int k, int n, double p) =>
        Math.Exp(Probability.LogGamma(n + 1) - Probability.LogGamma(k + 1) - Probability.LogGamma(n - k + 1) + (k * Math.Log(p)) + ((n - k) * Math.Log(1 - p)));
}
