using Ctm.Data.Drift;
using Ctm.Data.Schema;
using Ctm.Data.Statistics;
using Ctm.Data.Tests.Support;
using Ctm.Data.Validation;
using Xunit.Abstractions;

namespace Ctm.Data.Tests.Validation;

/// <summary>The acceptance bars: false alarms on clean data at every batch size, and detection of real faults.</summary>
public sealed class FalseAlarmAndDetectionTests(ITestOutputHelper output)
{
    // CTM_TRIALS raises the trial count for a tighter estimate of the rates (the bars stay 1% and 99%).
    private static readonly int Trials = int.TryParse(Environment.GetEnvironmentVariable("CTM_TRIALS"), out var t) ? t : 200;
    private const int BaselineBatches = 20;

    [Theory]
    [InlineData(50, 11)]
    [InlineData(500, 12)]
    [InlineData(5000, 13)]
    public void Validate_CleanBatchesFromTheBaselineDistribution_QuarantinesAtMostOnePercent(int batchSize, int seed)
    {
        var random = new Random(seed);
        var data = new SyntheticData();
        var window = data.Baseline(random, BaselineBatches, batchSize);
        var schema = DataSchema.Infer(window);
        var validator = new BatchValidator();

        var quarantined = 0;
        var naive = 0;
        var reasons = new List<string>();
        for (var t = 0; t < Trials; t++)
        {
            var batch = data.Batch(random, batchSize, schema);
            var decision = validator.Validate(batch, schema, window);
            if (!decision.IsAccepted)
            {
                quarantined++;
                reasons.AddRange(decision.Anomalies.Select(a => a.Description));
            }

            if (NaiveFixedThresholdAlarm(window, batch, schema))
            {
                naive++;
            }
        }

        output.WriteLine($"batch size {batchSize}: {quarantined}/{Trials} clean batches quarantined ({100.0 * quarantined / Trials:0.0}%); fixed thresholds without a test (L∞ > 0.01, JS > 0.01 bits, TFDV/Evidently style) would flag {naive}/{Trials} ({100.0 * naive / Trials:0.0}%)");
        foreach (var reason in reasons.Distinct().Take(10))
        {
            output.WriteLine("  " + reason);
        }

        Assert.True(quarantined <= Trials / 100, $"{quarantined} of {Trials} clean batches of {batchSize} rows were quarantined:{Environment.NewLine}{string.Join(Environment.NewLine, reasons)}");
    }

    public static TheoryData<string> Faults => ["mean shift", "category renamed", "unit change", "label flip"];

    [Theory]
    [MemberData(nameof(Faults))]
    public void Validate_CorruptedBatchesOf500Rows_QuarantinedInAtLeast99PercentOfTrials(string fault)
    {
        var random = new Random(fault.Length * 7919);
        var clean = new SyntheticData();
        var window = clean.Baseline(random, BaselineBatches, 500);
        var schema = DataSchema.Infer(window);
        var validator = new BatchValidator();
        var (corrupt, feature, kinds) = fault switch
        {
            // x00 is standard normal: shift by half a standard deviation.
            "mean shift" => (new SyntheticData { Corrupt = r => { r.Numeric[0] += 0.5; return r; } }, "x00", new[] { AnomalyKind.Drift }),
            // An upstream changes an encoding: "B" becomes "b".
            "category renamed" => (new SyntheticData { Corrupt = r => { r.Categorical[0] = r.Categorical[0] == "B" ? "b" : r.Categorical[0]; return r; } }, "c0", new[] { AnomalyKind.OutOfDomain, AnomalyKind.Drift }),
            // x02 is a price-like log-normal now sent in thousandths.
            "unit change" => (new SyntheticData { Corrupt = r => { r.Numeric[2] *= 1000; return r; } }, "x02", new[] { AnomalyKind.OutOfRange, AnomalyKind.Drift }),
            // 20% of labels flipped at random.
            "label flip" => (new SyntheticData { Corrupt = r => { r.Label = random.NextDouble() < 0.2 ? (r.Label == "yes" ? "no" : "yes") : r.Label; return r; } }, SyntheticData.Label, new[] { AnomalyKind.Drift }),
            _ => throw new ArgumentOutOfRangeException(nameof(fault)),
        };

        var detected = 0;
        var other = 0;
        for (var t = 0; t < Trials; t++)
        {
            var decision = validator.Validate(corrupt.Batch(random, 500, schema), schema, window);
            if (decision.Anomalies.Any(a => a.Feature == feature && kinds.Contains(a.Kind)))
            {
                detected++;
            }

            if (decision.Anomalies.Any(a => a.Feature != feature))
            {
                other++;
            }

            if (t == 0)
            {
                output.WriteLine(decision.Summary);
            }
        }

        output.WriteLine($"{fault}: quarantined for '{feature}' in {detected}/{Trials} trials ({100.0 * detected / Trials:0.0}%); batches also flagged on another feature: {other}");
        Assert.True(detected >= Trials * 99 / 100, $"{fault}: detected in {detected} of {Trials}");
    }

    // What a fixed distance threshold without a sample-size correction says about the same batch.
    private static bool NaiveFixedThresholdAlarm(BatchStatistics window, BatchStatistics batch, DataSchema schema) =>
        schema.Columns.Any(c => window.Column(c.Name) is { } r && batch.Column(c.Name) is { } b && DriftDetector.Compare(r, b) is { Distance: > 0.01 });
}
