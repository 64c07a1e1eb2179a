using System.Net.Http.Json;
using System.Text.Json;
using static Ctm.Validator.Tests.Api;

namespace Ctm.Validator.Tests;

/// <summary>Anomalies the running Validator finds beyond the schema: duplicates and drift, with a picture and thresholds operators set.</summary>
public sealed class AnomalyTests(ValidatorFixture system) : IClassFixture<ValidatorFixture>
{
    [Fact]
    public async Task SameBytesIngestedAgain_QuarantinedAsDuplicateBatch()
    {
        const string dataset = "duplicate-bytes";
        using var ingest = system.Client("Ingest");
        var csv = new ChurnCsv { Seed = 81 }.ToString();
        Assert.Equal("accepted", (await system.DecisionAsync(await UploadAsync(ingest, dataset, csv))).GetProperty("status").GetString());

        var again = await system.DecisionAsync(await UploadAsync(ingest, dataset, csv));

        Assert.Equal("quarantined", again.GetProperty("status").GetString());
        Assert.Equal(["duplicate-batch"], Kinds(again));
    }

    [Fact]
    public async Task ShiftedFeeDistributionWithinRange_QuarantinedForDrift_WithAPictureOfIt()
    {
        const string dataset = "drift";
        using var ingest = system.Client("Ingest");
        using var validator = system.Client("Validator");
        // Judge by the null of two batches of history instead of the default ten, so a few uploads show it.
        (await validator.PutAsJsonAsync($"v1/datasets/{dataset}/thresholds/*", new { @operator = "ivan", reason = "short history", drift = new { minHistory = 2 } })).EnsureSuccessStatusCode();
        for (var seed = 91; seed < 94; seed++)
        {
            Assert.Equal("accepted", (await system.DecisionAsync(await UploadAsync(ingest, dataset, new ChurnCsv { Seed = seed, Rows = 400 }.ToString()))).GetProperty("status").GetString());
        }

        var shifted = await UploadAsync(ingest, dataset, new ChurnCsv { Seed = 94, Rows = 400, Fee = (10, 40) }.ToString());
        var decision = await system.DecisionAsync(shifted);

        Assert.Equal("quarantined", decision.GetProperty("status").GetString());
        var drift = decision.GetProperty("reasons").EnumerateArray().First(r => r.GetProperty("kind").GetString() == "drift" && r.GetProperty("feature").GetString() == "monthly_fee" && r.GetProperty("severity").GetString() == "block");
        Assert.True(drift.GetProperty("measured").GetDouble() >= drift.GetProperty("threshold").GetDouble());
        Assert.Contains("Jensen-Shannon", drift.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("out-of-range", Kinds(decision));
        Assert.Equal(3, decision.GetProperty("windowBatchIds").GetArrayLength());

        var perFeature = await ListAsync(validator, $"v1/batches/{shifted}/drift");
        Assert.True(perFeature.Single(f => f.GetProperty("feature").GetString() == "monthly_fee").GetProperty("drifted").GetBoolean());
        Assert.False(perFeature.Single(f => f.GetProperty("feature").GetString() == "tenure").GetProperty("drifted").GetBoolean());

        var response = await validator.GetAsync($"v1/batches/{shifted}/drift.svg");
        response.EnsureSuccessStatusCode();
        Assert.Equal("image/svg+xml", response.Content.Headers.ContentType?.MediaType);
        var svg = await response.Content.ReadAsStringAsync();
        Assert.StartsWith("<svg", svg, StringComparison.Ordinal);
        Assert.Contains("monthly_fee", svg, StringComparison.Ordinal);
        Assert.Contains("DRIFTED", svg, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DriftSwitchedOffForAFeature_ShiftedBatchAccepted_AndThresholdsListed()
    {
        const string dataset = "drift-off";
        using var ingest = system.Client("Ingest");
        using var validator = system.Client("Validator");
        (await validator.PutAsJsonAsync($"v1/datasets/{dataset}/thresholds/*", new { @operator = "ivan", reason = "short history", drift = new { minHistory = 2 } })).EnsureSuccessStatusCode();
        for (var seed = 101; seed < 104; seed++)
        {
            Assert.Equal("accepted", (await system.DecisionAsync(await UploadAsync(ingest, dataset, new ChurnCsv { Seed = seed, Rows = 400 }.ToString()))).GetProperty("status").GetString());
        }

        // Thresholds in the form written before the calibrated settings (four fields) still apply.
        foreach (var feature in new[] { "monthly_fee", "churned" })
        {
            var put = await validator.PutAsJsonAsync($"v1/datasets/{dataset}/thresholds/{feature}", new { @operator = "ivan", reason = "seasonal prices", drift = new { significance = 1e-4, jensenShannonFloor = 0.01, lInfinityFloor = 0.03, enabled = false } });
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        }

        var shifted = await UploadAsync(ingest, dataset, new ChurnCsv { Seed = 104, Rows = 400, Fee = (10, 40) }.ToString());
        var decision = await system.DecisionAsync(shifted);

        Assert.True(decision.GetProperty("status").GetString() == "accepted", decision.ToString());
        var thresholds = await validator.GetFromJsonAsync<JsonElement>($"v1/datasets/{dataset}/thresholds");
        Assert.Contains(thresholds.GetProperty("overrides").EnumerateArray(), o => o.GetProperty("feature").GetString() == "monthly_fee" && !o.GetProperty("thresholds").GetProperty("enabled").GetBoolean());
        Assert.Equal(1e-4, thresholds.GetProperty("defaultDrift").GetProperty("significance").GetDouble());
        Assert.Equal(10, thresholds.GetProperty("defaultDrift").GetProperty("minHistory").GetInt32());
        Assert.Contains(thresholds.GetProperty("overrides").EnumerateArray(), o => o.GetProperty("feature").GetString() == "*" && o.GetProperty("thresholds").GetProperty("minHistory").GetInt32() == 2);
    }
}
