using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Ctm.Contracts;
using Ctm.Data.Parsing;
using Ctm.Data.Statistics;
using static Ctm.Validator.Tests.Api;

namespace Ctm.Validator.Tests;

/// <summary>Training/serving skew: serving statistics against the training baseline of the version that served them.</summary>
public sealed class SkewTests(ValidatorFixture system) : IClassFixture<ValidatorFixture>
{
    private static string ServingStatistics(ChurnCsv inputs)
    {
        using var reader = new CsvReader(new MemoryStream(Encoding.UTF8.GetBytes(inputs.ToString())), "serving");
        return BatchStatistics.Compute(reader).ToJson();
    }

    [Fact]
    public async Task ServingStatisticsOfTheServedVersion_ShiftedFeeIsSkew_SameDistributionIsNot()
    {
        const string dataset = "skew";
        using var ingest = system.Client("Ingest");
        using var validator = system.Client("Validator");
        using var registry = system.Client("Registry");
        var b1 = await UploadAsync(ingest, dataset, new ChurnCsv { Seed = 111, Rows = 400 }.ToString());
        var b2 = await UploadAsync(ingest, dataset, new ChurnCsv { Seed = 112, Rows = 400 }.ToString());
        Assert.Equal("accepted", (await system.DecisionAsync(b2)).GetProperty("status").GetString());
        var version = await system.EventuallyAsync<int?>(async () =>
        {
            var response = await registry.GetAsync($"v1/datasets/{dataset}/serving");
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }

            var serving = await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();
            var v = serving.GetProperty("version").GetInt32();
            var lineage = await registry.GetFromJsonAsync<JsonElement>($"v1/datasets/{dataset}/versions/{v}");
            return Guids(lineage.GetProperty("batchIds")).ToHashSet().SetEquals([b1, b2]) ? v : null;
        }, Patience, "a served version trained on both batches");

        var clean = await PostAsync(validator, $"v1/datasets/{dataset}/serving-statistics", new
        {
            modelVersion = version,
            replica = "api-test",
            statistics = JsonDocument.Parse(ServingStatistics(new ChurnCsv { Seed = 113, Rows = 500, WithoutLabel = true })).RootElement,
        });
        Assert.True(clean.GetProperty("status").GetString() == "ok", clean.ToString());
        Assert.Equal(new[] { b1, b2 }.Order(), Guids(clean.GetProperty("baselineBatchIds")).Order());

        // The Predictor's way: the event on the bus.
        var bus = await system.BusAsync();
        await bus.Publish(new ServingStatisticsReported
        {
            Dataset = dataset,
            ModelVersion = version!.Value,
            Replica = "bus-replica",
            WindowStart = DateTimeOffset.UtcNow.AddMinutes(-5),
            WindowEnd = DateTimeOffset.UtcNow,
            SampledRows = 500,
            ServedRows = 5000,
            Statistics = ServingStatistics(new ChurnCsv { Seed = 114, Rows = 500, Fee = (60, 100), WithoutLabel = true }),
            CorrelationId = Guid.NewGuid(),
        });
        var skewed = await system.EventuallyAsync(async () =>
        {
            var reports = await ListAsync(validator, $"v1/datasets/{dataset}/skew?version={version}");
            return reports.FirstOrDefault(r => r.GetProperty("replica").GetString() == "bus-replica") is { ValueKind: JsonValueKind.Object } r ? (JsonElement?)r : null;
        }, Patience, "the skew report of the bus replica");

        Assert.Equal("skewed", skewed!.Value.GetProperty("status").GetString());
        var anomaly = Assert.Single(skewed.Value.GetProperty("anomalies").EnumerateArray());
        Assert.Equal("monthly_fee", anomaly.GetProperty("feature").GetString());
        Assert.Equal("Skew", anomaly.GetProperty("kind").GetString());
        Assert.Contains("training baseline", anomaly.GetProperty("description").GetString(), StringComparison.Ordinal);

        var svg = await validator.GetStringAsync($"v1/datasets/{dataset}/skew/{skewed.Value.GetProperty("id").GetGuid()}.svg");
        Assert.StartsWith("<svg", svg, StringComparison.Ordinal);
        Assert.Contains("monthly_fee — Jensen-Shannon divergence", svg, StringComparison.Ordinal);
        Assert.Contains("SKEWED", svg, StringComparison.Ordinal);
    }
}
