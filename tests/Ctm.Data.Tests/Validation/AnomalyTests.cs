using System.Text;
using Ctm.Data.Parsing;
using Ctm.Data.Schema;
using Ctm.Data.Statistics;
using Ctm.Data.Tests.Support;
using Ctm.Data.Validation;

namespace Ctm.Data.Tests.Validation;

/// <summary>Each anomaly kind on crafted data: the right feature, the right kind, and a sentence.</summary>
public sealed class AnomalyTests
{
    private static readonly DataSchema Schema = new()
    {
        Version = 3,
        LabelColumn = "y",
        Columns =
        [
            new ColumnSchema { Name = "x", Type = ColumnType.Numeric, Min = 0, Max = 10 },
            new ColumnSchema { Name = "c", Type = ColumnType.Categorical, Domain = ["a", "b"] },
            new ColumnSchema { Name = "y", Type = ColumnType.Categorical, Domain = ["0", "1"] },
        ],
    };

    private const string Clean = "x,c,y\n1,a,0\n2.5,b,1\n10,a,0\n0,b,1\n";

    private static BatchStatistics Stats(string csv, DataSchema? schema = null)
    {
        using var reader = new CsvReader(new MemoryStream(Encoding.UTF8.GetBytes(csv)), "crafted.csv");
        return BatchStatistics.Compute(reader, schema ?? Schema);
    }

    private static Anomaly Single(ValidationDecision decision, AnomalyKind kind)
    {
        Assert.Equal(ValidationOutcome.Quarantine, decision.Outcome);
        var anomaly = Assert.Single(decision.Anomalies, a => a.Kind == kind);
        Assert.False(string.IsNullOrWhiteSpace(anomaly.Description));
        return anomaly;
    }

    [Fact]
    public void Validate_CleanBatch_Accepted()
    {
        var decision = new BatchValidator().Validate(Stats(Clean), Schema);

        Assert.True(decision.IsAccepted, decision.Summary);
        Assert.Equal(3, decision.SchemaVersion);
    }

    [Theory]
    [InlineData("c,y\na,0\nb,1\n", AnomalyKind.MissingColumn, "x")]
    [InlineData("x,c,y,z\n1,a,0,q\n2,b,1,r\n", AnomalyKind.UnexpectedColumn, "z")]
    [InlineData("x,c,y\n1,a,0\nabc,b,1\n", AnomalyKind.TypeMismatch, "x")]
    [InlineData("x,c,y\n1,a,0\n,b,1\n", AnomalyKind.PresenceBelowRequired, "x")]
    [InlineData("x,c,y\n1,a,0\nNaN,b,1\n", AnomalyKind.NonFiniteValues, "x")]
    [InlineData("x,c,y\n1,a,0\n2,b,\n", AnomalyKind.MissingLabels, "y")]
    [InlineData("x,c\n1,a\n2,b\n", AnomalyKind.MissingLabels, "y")]
    public void Validate_CraftedFault_ReportsKindAndFeature(string csv, AnomalyKind kind, string feature)
    {
        var decision = new BatchValidator().Validate(Stats(csv), Schema);

        var anomaly = Single(decision, kind);
        Assert.Equal(feature, anomaly.Feature);
        Assert.Contains(feature, anomaly.Description, StringComparison.Ordinal);
        Assert.Equal(Severity.Block, anomaly.Severity);
    }

    // Without history a domain or range is young: values outside it widen the schema with a warning instead of blocking.
    [Theory]
    [InlineData("x,c,y\n1,a,0\n2,zzz,1\n", AnomalyKind.OutOfDomain, "c")]
    [InlineData("x,c,y\n1,a,0\n1000,b,1\n", AnomalyKind.OutOfRange, "x")]
    public void Validate_OutsideAYoungDomainOrRange_AcceptedWithAWarningAndAWideningChange(string csv, AnomalyKind kind, string feature)
    {
        var decision = new BatchValidator().Validate(Stats(csv), Schema);

        Assert.True(decision.IsAccepted, decision.Summary);
        var anomaly = Assert.Single(decision.Anomalies, a => a.Kind == kind);
        Assert.Equal(Severity.Warn, anomaly.Severity);
        Assert.Equal(feature, anomaly.Feature);
        var change = Assert.Single(decision.SchemaChanges);
        Assert.Equal(feature, change.Feature);
        var widened = Schema.Apply(decision.SchemaChanges);
        Assert.Empty(new BatchValidator().Validate(Stats(csv, widened), widened).Anomalies);
    }

    [Fact]
    public void Validate_TypeMismatch_NamesTheOffendingValue()
    {
        var anomaly = Single(new BatchValidator().Validate(Stats("x,c,y\n1,a,0\nabc,b,1\n"), Schema), AnomalyKind.TypeMismatch);

        Assert.Equal(["abc"], anomaly.Examples);
        Assert.Equal(0.5, anomaly.Measured);
        Assert.Equal(0, anomaly.Threshold);
    }

    [Fact]
    public void Validate_DuplicateBatch_Quarantined()
    {
        var bytes = Encoding.UTF8.GetBytes(Clean);
        var hash = BatchHash.Compute(bytes);

        var decision = new BatchValidator().Validate(Stats(Clean), Schema, batchSha256: hash, knownHashes: ["00", hash.ToUpperInvariant()]);

        Assert.Null(Single(decision, AnomalyKind.DuplicateBatch).Feature);
        Assert.True(new BatchValidator().Validate(Stats(Clean), Schema, batchSha256: hash, knownHashes: ["00"]).IsAccepted);
    }

    [Fact]
    public void Validate_RowCountFarFromTheWindowsUsual_Quarantined()
    {
        var random = new Random(21);
        var data = new SyntheticData();
        var window = data.Baseline(random, 10, 500);
        var schema = DataSchema.Infer(window);

        var small = new BatchValidator().Validate(data.Batch(random, 40, schema), schema, window);
        var usual = new BatchValidator().Validate(data.Batch(random, 450, schema), schema, window);

        var anomaly = Single(small, AnomalyKind.RowCount);
        Assert.Equal(40, anomaly.Measured);
        Assert.Equal(500, anomaly.Threshold);
        Assert.True(usual.IsAccepted, usual.Summary);
    }

    [Fact]
    public void Validate_ShiftedFeature_DriftOnThatFeature()
    {
        var random = new Random(22);
        var window = new SyntheticData().Baseline(random, 10, 500);
        var schema = DataSchema.Infer(window);
        var shifted = new SyntheticData { Corrupt = r => { r.Numeric[5] += 10; return r; } };

        var decision = new BatchValidator().Validate(shifted.Batch(random, 500, schema), schema, window);

        var drift = Single(decision, AnomalyKind.Drift);
        Assert.Equal("x05", drift.Feature);
        Assert.True(drift.Measured >= drift.Threshold);
        Assert.True(drift.PValue < 1e-4);
    }

    [Fact]
    public void CheckSkew_ServingDiffersFromTraining_SkewOnThatFeatureOnly()
    {
        var random = new Random(23);
        var training = new SyntheticData().Baseline(random, 10, 500);
        var schema = DataSchema.Infer(training);
        var serving = new SyntheticData { Corrupt = r => { r.Categorical[1] = "red"; return r; } }.Batch(random, 2000, schema);
        var same = new SyntheticData().Batch(random, 2000, schema);

        var skew = Single(new BatchValidator().CheckSkew(training, serving, schema), AnomalyKind.Skew);

        Assert.Equal("c1", skew.Feature);
        Assert.True(new BatchValidator().CheckSkew(training, same, schema).IsAccepted);
    }

    [Fact]
    public void Validate_SeveralFaults_QuarantineListsEveryReason()
    {
        var decision = new BatchValidator().Validate(Stats("x,c,y,z\nabc,zzz,,1\nNaN,a,1,2\n"), Schema);

        Assert.Equal(
            new[] { AnomalyKind.MissingLabels, AnomalyKind.TypeMismatch, AnomalyKind.NonFiniteValues, AnomalyKind.OutOfDomain, AnomalyKind.UnexpectedColumn }.Order(),
            decision.Anomalies.Select(a => a.Kind).Order());
        Assert.Equal(ValidationOutcome.Quarantine, decision.Outcome);
        // A quarantined batch widens nothing by itself: its widening waits for an operator's release.
        Assert.Empty(decision.SchemaChanges);
    }

    [Fact]
    public void Decision_Json_RoundTrip()
    {
        var decision = new BatchValidator().Validate(Stats("x,c,y\n1,a,0\n1000,zzz,1\n"), Schema);

        var copy = ValidationDecision.FromJson(decision.ToJson());

        Assert.Equal(decision.Outcome, copy.Outcome);
        Assert.Equal(decision.Anomalies.Select(a => (a.Feature, a.Kind, a.Severity, a.Measured, a.Threshold, a.Description)), copy.Anomalies.Select(a => (a.Feature, a.Kind, a.Severity, a.Measured, a.Threshold, a.Description)));
        Assert.Equal(decision.SchemaChanges.Select(c => c.Describe()), copy.SchemaChanges.Select(c => c.Describe()));
        Assert.Equal(decision.Measures!.ToJson(), copy.Measures!.ToJson());
    }

    [Theory]
    [InlineData("x,c,y\n1,a,0\n,b,1\n")]
    [InlineData("c,y\na,0\nb,1\n")]
    [InlineData("x,c,y,z\n1,a,0,q\n2,b,1,r\n")]
    public void ProposeFix_SchemaAnomaly_NextSchemaVersionAcceptsTheBatch(string csv)
    {
        var stats = Stats(csv);
        var decision = new BatchValidator().Validate(stats, Schema);
        Assert.False(decision.IsAccepted);

        var changes = Schema.ProposeFix(decision.Anomalies);
        var fixedSchema = Schema.Apply(changes);

        Assert.NotEmpty(changes);
        Assert.All(changes, c => Assert.False(string.IsNullOrWhiteSpace(c.Describe())));
        Assert.Equal(Schema.Version + 1, fixedSchema.Version);
        var again = new BatchValidator().Validate(Stats(csv, fixedSchema), fixedSchema);
        Assert.True(again.IsAccepted, again.Summary);
    }

    [Fact]
    public void ProposeFix_DataFault_NoSchemaChange()
    {
        var decision = new BatchValidator().Validate(Stats("x,c,y\nabc,a,0\nNaN,b,\n"), Schema);

        Assert.Empty(Schema.ProposeFix(decision.Anomalies));
    }
}
