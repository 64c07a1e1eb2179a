using Ctm.Data.Drift;
using Ctm.Data.Statistics;

namespace Ctm.Data.Tests.Drift;

public sealed class SharedBinsTests
{
    [Fact]
    public void NumericBins_CoverWhatBothSidesMostlyHold_AnOutlierLandsInTheEndBin_AndEachSideSumsToOne()
    {
        var batch = new NumericStatistics();
        var baseline = new NumericStatistics();
        for (var i = 0; i < 1000; i++)
        {
            batch.Add(10 + (i % 100));
            baseline.Add(i % 50);
        }

        batch.Add(1e9); // one wild value must not squeeze the other thousand into one bin

        var (low, width) = SharedBins.NumericRange(batch, baseline, 20);
        var batchShares = SharedBins.Proportions(batch.Sketch, low, width, 20);
        var baselineShares = SharedBins.Proportions(baseline.Sketch, low, width, 20);

        Assert.InRange(low, -1, 1);
        Assert.InRange(low + (20 * width), 100, 115);
        Assert.Equal(1.0, batchShares.Sum(), 6);
        Assert.Equal(1.0, baselineShares.Sum(), 6);
        Assert.True(batchShares[^1] > 0, "the outlier counts in the last bin");
        Assert.Equal(0.0, baselineShares[^1]);
        Assert.True(baselineShares.Take(10).Sum() > 0.99, "the baseline's 0–49 lie in the lower half");
    }

    [Fact]
    public void NumericBins_OfAConstantFeature_HaveAWidth()
    {
        var constant = new NumericStatistics();
        for (var i = 0; i < 10; i++)
        {
            constant.Add(3);
        }

        var (low, width) = SharedBins.NumericRange(constant, null, 12);

        Assert.True(width > 0);
        Assert.Equal(1.0, SharedBins.Proportions(constant.Sketch, low, width, 12).Sum(), 6);
    }

    [Fact]
    public void Categories_AreTheMostCommonOfEitherSide_ByTheLargerShare_TiesByName()
    {
        var batch = new CategoricalStatistics();
        var baseline = new CategoricalStatistics();
        foreach (var (value, times) in new[] { ("a", 50), ("b", 30), ("c", 20) })
        {
            for (var i = 0; i < times; i++)
            {
                batch.Add(value);
            }
        }

        foreach (var (value, times) in new[] { ("a", 10), ("new", 90) })
        {
            for (var i = 0; i < times; i++)
            {
                baseline.Add(value);
            }
        }

        Assert.Equal(["new", "a", "b"], SharedBins.TopCategories(batch, baseline, 3));
        Assert.Equal(["a", "b", "c"], SharedBins.TopCategories(batch, null, 5));
        Assert.Equal(0.3, SharedBins.Share(batch, "b"), 9);
    }
}
