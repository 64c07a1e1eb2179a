using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;

using Ctm.Testing;

namespace Ctm.Registry.Tests;

/// <summary>Rollback through the five running services: real batches, real training, real Predictor replicas.</summary>
[Collection(RegistryCollection.Name)]
public sealed class RollbackFlowTests(RegistryFixture system)
{
    [Fact]
    public async Task CorruptBatchOfV2_InChainV1V2V3_ServesV1OnEveryReplica_TaintsV2AndV3_AuditNamesOperator()
    {
        const string dataset = "chain";
        using var validator = system.Client("Validator");
        using var registry = system.Client("Registry");
        (await validator.PutAsJsonAsync($"v1/datasets/{dataset}/config", new { labelColumn = "churned", task = "binary" })).EnsureSuccessStatusCode();
        // Every version promotes, so each one warm-starts from the one before.
        (await registry.PutAsJsonAsync($"v1/datasets/{dataset}/policy", new { mode = "auto", tolerance = 1.0, @operator = "setup" })).EnsureSuccessStatusCode();
        await system.StartPredictorReplicaAsync();
        await system.StartPredictorReplicaAsync();

        var batches = new List<Guid>();
        for (var i = 1; i <= 3; i++)
        {
            batches.Add(await system.UploadBatchAsync(dataset, ChurnData.Csv(300, seed: 10 + i)));
            await system.WaitServingAsync(dataset, i);
            // The Trainer warm-starts from what it last saw promoted: let the promotion reach the replicas (and it) first.
            await EveryReplicaAnswersAsync(dataset, i);
        }

        var versions = await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/versions");
        Assert.Equal([null, 1, 2], versions!.Select(v => v.TryGetProperty("parentVersion", out var p) && p.ValueKind == JsonValueKind.Number ? p.GetInt32() : (int?)null));
        var beforeRollback = DateTimeOffset.UtcNow;

        using var asAlice = system.Client("Registry", "alice");
        var response = await asAlice.PostAsJsonAsync($"v1/datasets/{dataset}/rollbacks", new
        {
            corruptBatchId = batches[1],
            reason = "label leak found in batch 2",
            @operator = "alice",
        });
        var outcome = await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1, outcome.GetProperty("servingVersion").GetInt32());
        Assert.Equal([2, 3], outcome.GetProperty("taintedVersions").EnumerateArray().Select(v => v.GetInt32()));

        await EveryReplicaAnswersAsync(dataset, 1);

        versions = await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/versions");
        Assert.Equal([false, true, true], versions!.Select(v => v.GetProperty("tainted").GetBoolean()));
        var audit = await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/audit");
        var entry = Assert.Single(audit!, a => a.GetProperty("action").GetString() == "rollback");
        Assert.Equal("alice", entry.GetProperty("actor").GetString());
        Assert.Equal("label leak found in batch 2", entry.GetProperty("details").GetProperty("reason").GetString());

        var batchList = await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/batches");
        var corrupt = batchList!.Single(b => b.GetProperty("batchId").GetGuid() == batches[1]);
        Assert.Equal("corrupt", corrupt.GetProperty("status").GetString());
        Assert.Contains(corrupt.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("status").GetString()), s => s == "accepted");
        var influence = await registry.GetFromJsonAsync<JsonElement>($"v1/batches/{batches[1]}/versions");
        Assert.Equal([2, 3], influence.GetProperty("influenced").EnumerateArray().Select(v => v.GetInt32()));

        // "What served at T" and the serving history.
        var then = await registry.GetFromJsonAsync<JsonElement>($"v1/datasets/{dataset}/serving?at={Uri.EscapeDataString(beforeRollback.ToString("O", CultureInfo.InvariantCulture))}");
        Assert.Equal(3, then.GetProperty("version").GetInt32());
        var history = await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/serving/history");
        Assert.Equal([1, 2, 3, 1], history!.Select(h => h.GetProperty("version").GetInt32()));
        Assert.Equal("rollback", history![^1].GetProperty("reason").GetString());
        Assert.Equal("alice", history![^1].GetProperty("actor").GetString());

        var lineage = await registry.GetFromJsonAsync<JsonElement>($"v1/datasets/{dataset}/versions/3/lineage");
        Assert.Equal([2, 1], lineage.GetProperty("parentChain").EnumerateArray().Select(p => p.GetProperty("version").GetInt32()));
        Assert.Equal(3, lineage.GetProperty("batches").GetArrayLength());
        Assert.NotNull(lineage.GetProperty("run").GetProperty("engine").GetString());

        var svg = await registry.GetStringAsync($"v1/datasets/{dataset}/lineage.svg");
        Assert.Contains("""class="version serving" id="v1""", svg, StringComparison.Ordinal);
        Assert.Contains("""class="version tainted" id="v2""", svg, StringComparison.Ordinal);
        Assert.Contains("""class="version tainted" id="v3""", svg, StringComparison.Ordinal);
        Assert.Contains("""class="batch corrupt""", svg, StringComparison.Ordinal);
    }

    private async Task EveryReplicaAnswersAsync(string dataset, int version)
    {
        var expected = version.ToString(CultureInfo.InvariantCulture);
        foreach (var replica in system.Predictors)
        {
            await system.EventuallyAsync(async () => await RegistryFixture.PredictedVersionAsync(replica, dataset) == expected ? "ok" : null,
                RegistryFixture.Patience, $"Predictor {replica.BaseUrl} answering {dataset} with v{version}");
        }
    }
}
