using System.Net.Http.Json;
using static Ctm.Validator.Tests.Api;

namespace Ctm.Validator.Tests;

/// <summary>Decisions follow Ingest's order: the first batch fixes the schema even when the next ones arrive right behind it.</summary>
public sealed class OrderTests(ValidatorFixture system) : IClassFixture<ValidatorFixture>
{
    [Fact]
    public async Task ThreeBatchesUploadedBackToBack_DecidedInIngestOrder_FirstFixesTheSchema()
    {
        const string dataset = "order";
        using var ingest = system.Client("Ingest");
        using var validator = system.Client("Validator");
        (await validator.PutAsJsonAsync($"v1/datasets/{dataset}/config", new { labelColumn = "churned", task = "binary" })).EnsureSuccessStatusCode();

        var first = await UploadAsync(ingest, dataset, new ChurnCsv { Seed = 121, Rows = 400 }.ToString());
        var second = await UploadAsync(ingest, dataset, new ChurnCsv { Seed = 122, Rows = 400 }.ToString());
        var renamed = await UploadAsync(ingest, dataset, new ChurnCsv { Seed = 123, Rows = 200, RenameTenure = true }.ToString());

        var last = await system.DecisionAsync(renamed);
        var decisions = await ListAsync(validator, $"v1/datasets/{dataset}/batches");
        Assert.Equal([first, second, renamed], decisions.Select(d => d.GetProperty("batchId").GetGuid()));
        Assert.Equal(["accepted", "accepted", "quarantined"], decisions.Select(d => d.GetProperty("status").GetString()));
        Assert.Contains("missing-column", Kinds(last));
        Assert.Contains("unexpected-column", Kinds(last));
    }
}
