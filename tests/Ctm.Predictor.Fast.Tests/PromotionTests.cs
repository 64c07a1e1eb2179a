using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ctm.Contracts;
using MassTransit;

namespace Ctm.Predictor.Fast.Tests;

/// <summary>
/// <see cref="ModelPromoted"/> in, a served model and <see cref="ModelLoaded"/> out: only the Registry's signed decisions
/// load, a late older generation never replaces a newer one, and neither is a fault.
/// </summary>
public sealed class PromotionTests(PredictorService predictor) : IClassFixture<PredictorService>
{
    [Fact]
    public async Task ModelPromoted_SignedByTheRegistry_ServedAndReportedLoaded()
    {
        var promoted = predictor.Promotion("signed", 1, 1, PredictorService.ChurnModel);

        await predictor.PublishAsync(promoted);

        var loaded = await predictor.Harness.PublishedAsync<ModelLoaded>(m => m.Dataset == "signed");
        Assert.Equal((1, 1L, promoted.ArtifactSha256), (loaded.Version, loaded.Generation, loaded.ArtifactSha256));
        var consumed = await predictor.Harness.ConsumedAsync<ModelPromoted>(m => m.Dataset == "signed");
        Assert.Null(consumed.Exception);
        Assert.Empty(predictor.Harness.PublishedSoFar<Fault<ModelPromoted>>(f => f.Message.Dataset == "signed"));
        var predictions = await PredictAsync("signed", new { tenure = 3, plan = "basic", monthly_fee = 95.0 });
        Assert.Contains(predictions[0].GetProperty("label").GetString(), new[] { "yes", "no" });
    }

    [Fact]
    public async Task ModelPromoted_SignedByAnotherKey_RefusedAsForgedAndNothingServed()
    {
        using var forger = TestSigning.NewKey();
        var forged = predictor.Promotion("forged", 1, 1, PredictorService.ChurnModel, forger);

        await predictor.PublishAsync(forged);

        var failed = await predictor.Harness.PublishedAsync<ModelLoadFailed>(m => m.Dataset == "forged");
        Assert.Equal("forged", failed.Kind);
        Assert.Contains("signature", failed.Reason, StringComparison.Ordinal);
        Assert.Empty(predictor.Harness.PublishedSoFar<ModelLoaded>(m => m.Dataset == "forged"));
        Assert.Empty(predictor.Harness.PublishedSoFar<Fault<ModelPromoted>>(f => f.Message.Dataset == "forged"));
        using var client = predictor.Client();
        var response = await client.PostAsJsonAsync("v1/models/forged:predict", new { instances = new[] { new { tenure = 3, plan = "basic", monthly_fee = 95.0 } } });
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task ModelPromoted_OlderGenerationArrivingLate_NeverReplacesTheNewer()
    {
        var newer = predictor.Promotion("late", 2, 2, PredictorService.ChurnModel);
        await predictor.PublishAsync(newer);
        await predictor.Harness.PublishedAsync<ModelLoaded>(m => m.Dataset == "late" && m.Generation == 2);

        var older = predictor.Promotion("late", 1, 1, PredictorService.ChurnModel);
        await predictor.PublishAsync(older);

        var consumed = await predictor.Harness.ConsumedAsync<ModelPromoted>(m => m.Dataset == "late" && m.Generation == 1);
        Assert.Null(consumed.Exception);
        Assert.Empty(predictor.Harness.PublishedSoFar<ModelLoaded>(m => m.Dataset == "late" && m.Generation == 1));
        using var client = predictor.Client();
        var status = await client.GetFromJsonAsync<JsonElement>("v1/models/late");
        var available = status.GetProperty("model_version_status").EnumerateArray().Where(v => v.GetProperty("state").GetString() == "AVAILABLE").ToList();
        Assert.Equal(["2"], available.Select(v => v.GetProperty("version").GetString()));
    }

    private async Task<List<JsonElement>> PredictAsync(string dataset, params object[] instances)
    {
        using var client = predictor.Client();
        var response = await client.PostAsJsonAsync($"v1/models/{dataset}:predict", new { instances });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return [.. JsonDocument.Parse(text).RootElement.GetProperty("predictions").EnumerateArray()];
    }
}
