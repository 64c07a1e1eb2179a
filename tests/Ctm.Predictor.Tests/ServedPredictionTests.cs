using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Ctm.Contracts;
using Ctm.Testing;
using RabbitMQ.Client;

namespace Ctm.Predictor.Tests;

/// <summary>Label feedback end to end: what the Predictor served with an example key is joined to labels that come later, per version and role.</summary>
[Collection(PredictorCollection.Name)]
public sealed class ServedPredictionTests(PredictorFixture system)
{
    [Fact]
    public async Task KeyedPredictions_OverHttpAndTheBus_AreJoinedToLabelsByKey_AndEachVersionsServedQualityShowsInTheVersionView()
    {
        const string dataset = "feedback";
        var latest = await system.TrainAsync(dataset, "churned", [Data.Churn(300, seed: 61), Data.Churn(300, seed: 62)]);
        Assert.Equal(2, latest);
        using var predictor = system.Client("Predictor");
        using var trainer = system.Client("Trainer");
        using var registry = system.Client("Registry");
        // v2 serves; v1 is the canary for half the requests and the shadow of all of them. Traffic settings are a
        // replica's own, and other tests of the collection start more Predictor replicas, any of which may take the bus
        // request below (competing consumers): every running replica gets the same settings, as an operator would do.
        var replicas = system.Predictors.Where(p => !p.HasExited).ToList();
        foreach (var replica in replicas)
        {
            using var client = TestKeys.Authenticate(new HttpClient { BaseAddress = replica.BaseUrl });
            var put = await client.PutAsJsonAsync($"v1/models/{dataset}/traffic", new { canaryVersion = 1, canaryShare = 0.5, shadowVersion = 1 });
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        }

        var http = Data.ChurnInstances(40, seed: 63);
        for (var i = 0; i < http.Count; i++)
        {
            var instance = new Dictionary<string, object?>(http[i]) { ["key"] = $"h{i}" };
            (await predictor.PostAsJsonAsync($"v1/models/{dataset}:predict", new { instances = new[] { instance } })).EnsureSuccessStatusCode();
        }

        var bus = await system.BusAsync();
        await bus.Publish(new RequestPredictions
        {
            RequestId = Guid.NewGuid(), Dataset = dataset, CorrelationId = Guid.NewGuid(),
            Instances = [.. Data.ChurnInstances(20, seed: 64).Select((x, i) => new KeyedInstance { Key = $"b{i}", Json = JsonSerializer.Serialize(x) })],
        });

        // Labels for every key, as plain JSON from any AMQP client; ten of them twice.
        var factory = new ConnectionFactory { Uri = TestEnvironment.RabbitMq, VirtualHost = system.Infrastructure.VirtualHost };
        await using (var connection = await factory.CreateConnectionAsync())
        await using (var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true)))
        {
            var keys = Enumerable.Range(0, 40).Select(i => $"h{i}").Concat(Enumerable.Range(0, 20).Select(i => $"b{i}")).ToList();
            foreach (var (key, i) in keys.Select((k, i) => (k, i)).Concat(keys.Take(10).Select((k, i) => (k, i))))
            {
                var body = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { dataset, key, label = i % 3 == 0 ? "yes" : "no" }));
                await channel.BasicPublishAsync("ctm.labels", string.Empty, mandatory: false, new BasicProperties { ContentType = "application/json", Persistent = true }, body);
            }
        }

        // Each of the 60 keys was answered by the serving version or the canary, and by the shadow: 120 joined predictions.
        var feedback = await system.EventuallyAsync<JsonElement?>(async () =>
            await trainer.GetFromJsonAsync<JsonElement>($"v1/datasets/{dataset}/feedback") is var f
            && f.GetProperty("counters").GetProperty("predictionsJoined").GetInt64() == 120 && f.GetProperty("stored").GetProperty("predictionsAwaitingScore").GetInt64() == 0
            && f.GetProperty("counters").GetProperty("labelsDuplicate").GetInt64() == 10 ? f : null,
            PredictorFixture.Patience, "120 served predictions joined to their labels and scored");
        var counters = feedback!.Value.GetProperty("counters");
        Assert.Equal(60, counters.GetProperty("labelsJoined").GetInt64());
        Assert.Equal(60, counters.GetProperty("labelsReceived").GetInt64());
        Assert.Equal(120, counters.GetProperty("predictionsReceived").GetInt64());

        var versions = await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/versions");
        JsonElement[] Served(int version) => [.. versions!.Single(v => v.GetProperty("version").GetInt32() == version).GetProperty("liveQuality").EnumerateArray()
            .Where(l => l.GetProperty("source").GetString() == "served")];
        long Rows(JsonElement[] live, string role) => live.Where(l => l.GetProperty("role").GetString() == role).Sum(l => l.GetProperty("rows").GetInt64());
        Assert.Equal(60, Rows(Served(1), "shadow"));
        Assert.Equal(60, Rows(Served(1), "canary") + Rows(Served(2), "serving"));
        Assert.True(Rows(Served(1), "canary") > 0 && Rows(Served(2), "serving") > 0, "both the canary and the serving version answered some keys");
        Assert.All(Served(1).Concat(Served(2)), l => Assert.Equal("log_loss", l.GetProperty("metric").GetString()));
        // Beside the training-time metrics, v1 also shows its test-then-train quality on the batch v2 was trained on.
        var v1 = versions!.Single(v => v.GetProperty("version").GetInt32() == 1);
        Assert.True(v1.GetProperty("metrics").EnumerateObject().Any());
        Assert.Contains(v1.GetProperty("liveQuality").EnumerateArray(), l => l.GetProperty("source").GetString() == "test-then-train");
        foreach (var replica in replicas)
        {
            using var client = TestKeys.Authenticate(new HttpClient { BaseAddress = replica.BaseUrl });
            (await client.DeleteAsync($"v1/models/{dataset}/traffic")).EnsureSuccessStatusCode();
        }
    }
}
