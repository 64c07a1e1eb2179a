using System.Text.Json;
using Ctm.Data.Statistics;
using Ctm.Data.Tests.Support;

namespace Ctm.Data.Tests.Statistics;

public sealed class QuantileSketchTests
{
    public static TheoryData<string> Shapes => ["normal", "lognormal", "uniform", "mixed-sign heavy tail"];

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Quantile_AnyShape_WithinRelativeAccuracyOfTheExactQuantile(string shape)
    {
        var random = new Random(shape.Length);
        var values = Enumerable.Range(0, 100_000).Select(_ => shape switch
        {
            "normal" => SyntheticData.Normal(random),
            "lognormal" => Math.Exp(2 * SyntheticData.Normal(random)),
            "uniform" => random.NextDouble() * 1000,
            _ => SyntheticData.Normal(random) / (random.NextDouble() + 1e-3),
        }).ToArray();
        var sketch = new QuantileSketch();
        foreach (var v in values)
        {
            sketch.Add(v);
        }

        Array.Sort(values);
        for (var q = 0.0; q <= 1.0; q += 0.01)
        {
            var exact = values[(int)Math.Floor(q * (values.Length - 1))];
            var estimate = sketch.Quantile(q);
            Assert.True(Math.Abs(estimate - exact) <= (QuantileSketch.RelativeAccuracy * Math.Abs(exact)) + QuantileSketch.MinIndexable,
                $"q={q:0.00}: estimate {estimate}, exact {exact}");
        }
    }

    [Fact]
    public void Merge_TwoHalves_EqualsTheSketchOfTheConcatenation()
    {
        var random = new Random(5);
        var a = new QuantileSketch();
        var b = new QuantileSketch();
        var all = new QuantileSketch();
        for (var i = 0; i < 50_000; i++)
        {
            var v = (SyntheticData.Normal(random) * 100) + (i < 25_000 ? 0 : 50);
            (i < 25_000 ? a : b).Add(v);
            all.Add(v);
        }

        a.Merge(b);

        Assert.Equal(all.Buckets(), a.Buckets());
        Assert.Equal(all.Quantile(0.5), a.Quantile(0.5));
    }

    [Fact]
    public void Json_RoundTrip_KeepsEveryBucket()
    {
        var random = new Random(6);
        var sketch = new QuantileSketch();
        for (var i = 0; i < 10_000; i++)
        {
            sketch.Add(SyntheticData.Normal(random) * 10);
        }

        sketch.Add(0);
        var copy = JsonSerializer.Deserialize<QuantileSketch>(JsonSerializer.Serialize(sketch, DataJson.Options), DataJson.Options)!;

        Assert.Equal(sketch.Count, copy.Count);
        Assert.Equal(sketch.Buckets(), copy.Buckets());
    }

    [Fact]
    public void Add_HugeDynamicRange_MemoryStaysBounded()
    {
        var sketch = new QuantileSketch();
        for (var e = -300; e <= 300; e++)
        {
            sketch.Add(Math.Pow(10, e));
        }

        Assert.True(sketch.PositiveCounts.Length <= QuantileSketch.MaxBucketsPerSign);
        Assert.Equal(601, sketch.Count);
        // The largest values keep their accuracy; only the smallest magnitudes were collapsed.
        Assert.InRange(sketch.Quantile(1), 1e300 * 0.99, 1e300 * 1.01);
    }
}
