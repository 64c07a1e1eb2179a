using System.Text.Json;
using Ctm.Data.Schema;
using Ctm.Data.Statistics;
using Ctm.Data.Tests.Support;

namespace Ctm.Data.Tests.Schema;

public sealed class DataSchemaTests
{
    private static DataSchema Inferred() => DataSchema.Infer(new SyntheticData().Baseline(new Random(31), 4, 500));

    [Fact]
    public void Infer_SyntheticBaseline_TypesPresenceDomainsAndRanges()
    {
        var schema = Inferred();

        Assert.Equal(1, schema.Version);
        Assert.Equal(SyntheticData.Label, schema.LabelColumn);
        Assert.Equal(SyntheticData.Columns, schema.Columns.Select(c => c.Name));
        Assert.All(schema.Columns.Take(SyntheticData.NumericCount), c => Assert.Equal(ColumnType.Numeric, c.Type));
        Assert.Equal(1, schema.Find("x00")!.MinPresence);
        Assert.InRange(schema.Find("x07")!.MinPresence, 0.85, 0.95);
        Assert.Equal(SyntheticData.CategoriesOf(1).Order(StringComparer.Ordinal), schema.Find("c1")!.Domain);
        Assert.Equal(["no", "yes"], schema.Find(SyntheticData.Label)!.Domain);
        Assert.True(schema.Find("x03")!.Min >= 0);
        Assert.True(schema.Find("x03")!.Max <= 100);
        Assert.Equal(0.005, schema.Find("x03")!.MaxOutOfRangeFraction, 6);
    }

    [Fact]
    public void Infer_HighCardinalityText_NoDomain()
    {
        var builder = new StatisticsBuilder(["id"]);
        for (var i = 0; i < 500; i++)
        {
            builder.Add(0, $"user-{i}");
            builder.EndRow();
        }

        var column = DataSchema.Infer(builder.Build()).Find("id")!;

        Assert.Equal(ColumnType.Categorical, column.Type);
        Assert.Null(column.Domain);
    }

    [Fact]
    public void Apply_OperatorChanges_NewVersionWithEachChange()
    {
        var schema = Inferred();
        SchemaChange[] changes =
        [
            new RelaxDomainMass("c0", 0.05),
            new AddDomainValues("c0", ["D"]),
            new WidenRange("x00", -100, 100),
            new MarkOptional("x01"),
            new AddColumn("z", ColumnType.Numeric),
        ];

        var next = schema.Apply(changes);

        Assert.Equal(2, next.Version);
        Assert.Equal(0.05, next.Find("c0")!.MaxOutOfDomainFraction);
        Assert.Contains("D", next.Find("c0")!.Domain!);
        Assert.Equal(-100, next.Find("x00")!.Min);
        Assert.Equal(100, next.Find("x00")!.Max);
        Assert.Equal(0, next.Find("x01")!.MinPresence);
        Assert.Equal(ColumnType.Numeric, next.Find("z")!.Type);
        Assert.Equal(1, schema.Version);
        Assert.DoesNotContain("D", schema.Find("c0")!.Domain!);
        Assert.Throws<ArgumentException>(() => schema.Apply([new MarkOptional("nope")]));
    }

    [Fact]
    public void Json_RoundTrip_SchemaAndChanges()
    {
        var schema = Inferred().Apply([new WidenRange("x00", -9, 9)]);
        var copy = DataSchema.FromJson(schema.ToJson());

        Assert.Equal(schema.ToJson(), copy.ToJson());
        Assert.Equal(2, copy.Version);

        var change = (SchemaChange)new AddDomainValues("c0", ["x", "y"]);
        var json = JsonSerializer.Serialize(change, DataJson.Options);
        var back = Assert.IsType<AddDomainValues>(JsonSerializer.Deserialize<SchemaChange>(json, DataJson.Options));
        Assert.Contains("\"op\":\"addDomainValues\"", json, StringComparison.Ordinal);
        Assert.Equal(["x", "y"], back.Values);
    }
}
