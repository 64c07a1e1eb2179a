using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

using Ctm.Testing;

namespace Ctm.Predictor.Tests;

/// <summary>Canary and shadow versions, and the bounded queue, through the running services.</summary>
[Collection(PredictorCollection.Name)]
public sealed class TrafficTests(PredictorFixture system)
{
    [Fact]
    public async Task CanaryAndShadow_ConfiguredThroughTheApi_CanaryAnswersItsShareAndShadowIsRecordedNeverReturned()
    {
        const string dataset = "canary";
        var latest = await system.TrainAsync(dataset, "churned", [Data.Churn(300, seed: 51), Data.Churn(300, seed: 52)]);
        Assert.Equal(2, latest);
        using var predictor = system.Client("Predictor");

        // Canary v1 for half the requests, shadow v1 on a copy of all of them.
        var put = await predictor.PutAsJsonAsync($"v1/models/{dataset}/traffic", new { canaryVersion = 1, canaryShare = 0.5, shadowVersion = 1 });
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        var versions = new List<string>();
        for (var i = 0; i < 60; i++)
        {
            versions.Add(await VersionOfAsync(predictor, dataset, i));
        }

        Assert.Contains("1", versions);
        Assert.Contains("2", versions);
        Assert.All(versions, v => Assert.Contains(v, new[] { "1", "2" }));

        // Shadow only: every answer comes from the promoted version; the shadow's answers are only compared.
        (await predictor.PutAsJsonAsync($"v1/models/{dataset}/traffic", new { shadowVersion = 1 })).EnsureSuccessStatusCode();
        for (var i = 0; i < 30; i++)
        {
            Assert.Equal("2", await VersionOfAsync(predictor, dataset, 100 + i));
        }

        var comparison = await system.EventuallyAsync<JsonElement?>(async () =>
        {
            var traffic = await predictor.GetFromJsonAsync<JsonElement>($"v1/models/{dataset}/shadow");
            return traffic.GetProperty("shadowComparisons").EnumerateArray().FirstOrDefault(c => c.GetProperty("liveVersion").GetInt32() == 2 && c.GetProperty("rows").GetInt64() >= 30) is { ValueKind: JsonValueKind.Object } c ? c : null;
        }, PredictorFixture.Patience, "the shadow comparison of v2 against v1 over 30 rows");
        Assert.Equal(1, comparison!.Value.GetProperty("shadowVersion").GetInt32());
        Assert.InRange(comparison.Value.GetProperty("labelAgreement").GetDouble(), 0, 1);

        var status = await predictor.GetFromJsonAsync<JsonElement>($"v1/models/{dataset}");
        Assert.Contains(status.GetProperty("model_version_status").EnumerateArray(), v => v.GetProperty("role").GetString() == "shadow" && v.GetProperty("version").GetString() == "1");

        Assert.Equal(HttpStatusCode.NotFound, (await predictor.PutAsJsonAsync($"v1/models/{dataset}/traffic", new { shadowVersion = 77 })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await predictor.DeleteAsync($"v1/models/{dataset}/traffic")).StatusCode);
    }

    [Fact]
    public async Task FullQueue_ManyConcurrentRequests_SomeGet503WithRetryAfterAndNoneWaitUnbounded()
    {
        await system.ChurnModelAsync();
        var replica = await system.StartPredictorReplicaAsync(new Dictionary<string, string>
        {
            ["Serving__QueueCapacity"] = "1",
            ["Serving__MaxBatchSize"] = "1",
            ["Serving__HotKeyCacheSize"] = "0",
            ["Serving__RetryAfterSeconds"] = "2",
        });
        using var predictor = TestKeys.Authenticate(new HttpClient { BaseAddress = replica.BaseUrl });
        await system.WaitServedAsync(predictor, "churn", 1);

        var statuses = new List<HttpResponseMessage>();
        for (var burst = 0; burst < 20 && !statuses.Any(r => r.StatusCode == HttpStatusCode.ServiceUnavailable); burst++)
        {
            var body = new { instances = Data.ChurnInstances(20, seed: burst) };
            statuses.AddRange(await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => predictor.PostAsJsonAsync("v1/models/churn:predict", body))));
        }

        Assert.All(statuses, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.ServiceUnavailable }));
        var refused = statuses.First(r => r.StatusCode == HttpStatusCode.ServiceUnavailable);
        Assert.Equal(TimeSpan.FromSeconds(2), refused.Headers.RetryAfter?.Delta);
        Assert.Contains("queue", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString(), StringComparison.Ordinal);
        var description = (await PredictorFixture.ModelAsync(predictor, "churn"))!.Value;
        Assert.True(description.GetProperty("batching").GetProperty("rejected").GetInt64() > 0, description.ToString());
    }

    private static async Task<string> VersionOfAsync(HttpClient predictor, string dataset, int seed)
    {
        var predictions = await predictor.PostAsJsonAsync($"v1/models/{dataset}:predict", new { instances = Data.ChurnInstances(1, seed) });
        return (await predictions.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>()).GetProperty("model_version").GetString()!;
    }
}
