using Ctm.Data.Drift;
using Ctm.Data.Schema;
using Ctm.Data.Statistics;
using Ctm.Data.Tests.Support;
using Ctm.Data.Validation;

namespace Ctm.Data.Tests.Drift;

public sealed class EmpiricalNullTests
{
    [Fact]
    public void Fit_KnownHistory_MedianAndScaledMad_LimitWidenedForAShortHistory()
    {
        var nul = EmpiricalNull.Fit([1, 2, 3, 4, 100], spreadFloor: 0);

        Assert.Equal(3, nul.Median);
        // |x − 3| = 2, 1, 0, 1, 97: MAD 1, an outlier does not move it.
        Assert.Equal(1.4826, nul.Spread, 6);
        Assert.Equal(3 + (4 * 1.4826 * (1 + (3.0 / 5))), nul.Limit(4), 6);
        Assert.Equal(0.3, EmpiricalNull.Fit([5, 5, 5, 5], spreadFloor: 0.3).Spread);
    }

    [Fact]
    public void BatchMeasures_Json_RoundTrip()
    {
        var measures = new BatchMeasures { Accepted = true, Warned = ["x/location"], Evidence = { ["x/location"] = 1.5 } };
        measures.Features["x"] = new Dictionary<string, double> { [Measures.Location] = 0.25, [Measures.Scale] = 0.1 };

        var copy = BatchMeasures.FromJson(measures.ToJson());

        Assert.Equal(0.25, copy.Get("x", Measures.Location));
        Assert.Null(copy.Get("x", Measures.Distance));
        Assert.Equal(["x/location"], copy.Warned);
        Assert.Equal(1.5, copy.Evidence["x/location"]);
        Assert.True(copy.Accepted);
    }

    [Fact]
    public void Measures_UnitChange_ScaleNearLnHundred_WhileAFreshSampleStaysNearZero()
    {
        var random = new Random(5);
        var data = new SyntheticData();
        var reference = data.Baseline(random, 5, 500).Column("x02")!;
        var same = data.Batch(random, 500).Column("x02")!;
        var cents = new SyntheticData { Corrupt = r => { r.Numeric[2] *= 100; return r; } }.Batch(random, 500).Column("x02")!;

        var clean = Measures.Compare(reference, same, isLabel: false, out _);
        var unit = Measures.Compare(reference, cents, isLabel: false, out _);

        Assert.InRange(unit[Measures.Scale], Math.Log(100) - 0.3, Math.Log(100) + 0.3);
        Assert.True(clean[Measures.Scale] < 0.2, $"scale {clean[Measures.Scale]}");
        Assert.True(clean[Measures.Location] < 0.2, $"location {clean[Measures.Location]}");
    }

    [Fact]
    public void Thresholds_PerFeature_ChangeTheDecision()
    {
        var random = new Random(77);
        var data = new SyntheticData();
        var first = data.Batch(random, 500);
        var schema = DataSchema.Infer(first);
        var history = new List<BatchMeasures>();
        var accepted = new List<BatchStatistics> { first };
        var validator = new BatchValidator();
        for (var b = 0; b < 15; b++)
        {
            var batch = data.Batch(random, 500, schema);
            var d = validator.Validate(batch, schema, BatchStatistics.Merge(accepted.TakeLast(10)), history: history);
            history.Add(d.Measures!);
            accepted.Add(batch);
            schema = schema.Apply(d.SchemaChanges);
        }

        var shifted = new SyntheticData { Corrupt = r => { r.Numeric[0] += 1.5; return r; } }.Batch(random, 500, schema);
        var window = BatchStatistics.Merge(accepted.TakeLast(10));

        var byDefault = validator.Validate(shifted, schema, window, history: history);
        var lenient = schema with { Columns = [.. schema.Columns.Select(c => c.Name == "x00" ? c with { Drift = DriftThresholds.DefaultDrift with { BlockDeviations = 1000, WarnDeviations = 999 } } : c)] };
        var relaxed = validator.Validate(shifted, lenient, window, history: history);
        var off = schema with { Columns = [.. schema.Columns.Select(c => c.Name == "x00" ? c with { Drift = DriftThresholds.DefaultDrift with { Enabled = false } } : c)] };

        Assert.Contains(byDefault.Blocking, a => a.Feature == "x00" && a.Kind == AnomalyKind.Drift);
        Assert.DoesNotContain(relaxed.Anomalies, a => a.Feature == "x00" && a.Kind == AnomalyKind.Drift);
        Assert.True(relaxed.IsAccepted, relaxed.Summary);
        Assert.True(validator.Validate(shifted, off, window, history: history).IsAccepted);
    }
}
