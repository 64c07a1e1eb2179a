using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Ctm.Testing;

namespace Ctm.Registry.Tests;

/// <summary>The upstream a producer names reaches Ingest's batch, <c>BatchIngested</c> and the Registry's batch tracking, which rollbacks select by.</summary>
[Collection(RegistryCollection.Name)]
public sealed class UpstreamIngestTests(RegistryFixture system)
{
    [Fact]
    public async Task UploadSource_IsRecordedByIngestAndTheRegistry_WithTheIngestionTime_AndABadNameIsRefused()
    {
        const string dataset = "upstream-upload";
        using var ingest = system.Client("Ingest");
        using var registry = system.Client("Registry");
        var receipt = await system.UploadAsync(dataset, ChurnData.Csv(50, seed: 91), "crm-eu");
        var id = receipt.GetProperty("batchId").GetGuid();
        Assert.Equal("crm-eu", receipt.GetProperty("upstream").GetString());
        var stored = await ingest.GetFromJsonAsync<JsonElement>($"v1/batches/{id}");
        Assert.Equal("crm-eu", stored.GetProperty("upstream").GetString());
        Assert.Equal("http", stored.GetProperty("source").GetString());

        var tracked = await system.EventuallyAsync(async () =>
        {
            var list = await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/batches");
            return list?.SingleOrDefault(b => b.GetProperty("batchId").GetGuid() == id) is { } b && b.TryGetProperty("upstream", out _) ? b : (JsonElement?)null;
        }, RegistryFixture.Patience, "the Registry tracking the uploaded batch");
        Assert.Equal("crm-eu", tracked!.Value.GetProperty("upstream").GetString());
        Assert.Equal(stored.GetProperty("ingestedAt").GetDateTimeOffset(), tracked!.Value.GetProperty("ingestedAt").GetDateTimeOffset());

        using var content = new StringContent(ChurnData.Csv(10, seed: 92), Encoding.UTF8, "text/csv");
        var refused = await ingest.PostAsync($"v1/datasets/{dataset}/batches?source=CRM%20EU", content);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("source name 'CRM EU' is invalid", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Single((await ingest.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/batches"))!);
    }

    [Fact]
    public async Task RowEventsOfTwoSources_AreCutIntoBatchesOfOneUpstreamEach_RecordedByTheRegistry()
    {
        const string dataset = "upstream-rows";
        using var ingest = system.Client("Ingest");
        using var registry = system.Client("Registry");
        var sources = new[] { "pos-eu", "pos-us", null, "pos-eu", "pos-us", "pos-eu" };
        var factory = new RabbitMQ.Client.ConnectionFactory { Uri = TestEnvironment.RabbitMq, VirtualHost = system.Infrastructure.VirtualHost };
        await using (var connection = await factory.CreateConnectionAsync())
        await using (var channel = await connection.CreateChannelAsync())
        {
            for (var i = 0; i < sources.Length; i++)
            {
                // Plain JSON, as a non-.NET upstream publishes it; the third event names no source.
                var source = sources[i] is { } s ? $"\"source\":\"{s}\"," : string.Empty;
                var json = $$$"""{"dataset":"{{{dataset}}}","eventId":"up-{{{i}}}",{{{source}}}"row":{"x":{{{i}}},"color":"c{{{i % 2}}}","label":"{{{(i % 2 == 0 ? "yes" : "no")}}}"}}""";
                await channel.BasicPublishAsync("ctm.rows", string.Empty, false, new RabbitMQ.Client.BasicProperties { ContentType = "application/json" }, Encoding.UTF8.GetBytes(json));
            }
        }

        var batches = await system.EventuallyAsync(async () =>
        {
            var list = await ingest.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/batches");
            return list is not null && list.Sum(b => b.GetProperty("rowCount").GetInt64()) == sources.Length ? list : null;
        }, RegistryFixture.Patience, "every row event cut into a batch");

        // Each batch holds the rows of one upstream only (x is the event's index).
        foreach (var batch in batches)
        {
            var upstream = batch.TryGetProperty("upstream", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null;
            var rows = (await ingest.GetStringAsync(batch.GetProperty("location").GetString())).TrimEnd('\n').Split('\n')[1..];
            Assert.All(rows, r => Assert.Equal(upstream, sources[int.Parse(r.Split(',')[0], System.Globalization.CultureInfo.InvariantCulture)]));
        }

        Assert.Equal(["pos-eu", "pos-us"], batches.Select(b => b.TryGetProperty("upstream", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null)
            .OfType<string>().Distinct().Order(StringComparer.Ordinal));
        var ids = batches.ToDictionary(b => b.GetProperty("batchId").GetGuid(), b => b.TryGetProperty("upstream", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null);
        await system.EventuallyAsync(async () =>
        {
            var list = await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/batches");
            var seen = list!.Where(b => b.TryGetProperty("ingestedAt", out _))
                .ToDictionary(b => b.GetProperty("batchId").GetGuid(), b => b.TryGetProperty("upstream", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null);
            return seen.Count == ids.Count && ids.All(x => seen.TryGetValue(x.Key, out var up) && up == x.Value) ? "ok" : null;
        }, RegistryFixture.Patience, "the Registry recording each batch's upstream");
    }
}
