using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ctm.Contracts;
using Ctm.Testing;

namespace Ctm.Registry.Tests;

/// <summary>
/// Rollbacks naming several batches, as the bus and the API deliver them: repeated, overlapping an earlier rollback,
/// or selecting nothing. Lineages are chosen by the test (ModelTrained with artifacts from <see cref="ArtifactHost"/>).
/// </summary>
[Collection(RegistryCollection.Name)]
public sealed class SeveralBatchRollbackMessageTests(RegistryFixture system) : IDisposable
{
    [Fact]
    public async Task SeveralBatchesOverTheBus_OneEffect_EachVersionNamesItsBatches_BadSelectorsChangeNothing()
    {
        var dataset = "several-" + Guid.NewGuid().ToString("N")[..6];
        var bus = await system.BusAsync();
        using var registry = system.Client("Registry");
        var (a, b, c) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var now = DateTimeOffset.UtcNow;
        var artifact = system.Artifacts.Add(TestModels.Linear(3));

        // v1 [a]; v2 [a, b] from v1; v3 [a, b, c] from v2; v4 [a, c] from v1. Each serves in turn.
        await bus.Publish(TestModels.Trained(dataset, artifact, [a], null, 0.80, now));
        await system.WaitServingAsync(dataset, 1);
        await bus.Publish(TestModels.Trained(dataset, artifact, [a, b], 1, 0.80, now));
        await system.WaitServingAsync(dataset, 2);
        await bus.Publish(TestModels.Trained(dataset, artifact, [a, b, c], 2, 0.80, now));
        await system.WaitServingAsync(dataset, 3);
        await bus.Publish(TestModels.Trained(dataset, artifact, [a, c], 1, 0.80, now));
        await system.WaitServingAsync(dataset, 4);

        // The single form still works: c taints v3 and v4; v2 is the newest clean version that served.
        var single = await As("bob").PostAsJsonAsync($"v1/datasets/{dataset}/rollbacks", new { corruptBatchId = c, reason = "clock skew", @operator = "bob" });
        var first = await single.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(2, first.GetProperty("servingVersion").GetInt32());
        Assert.Equal(c, first.GetProperty("corruptBatchId").GetGuid());
        Assert.Equal([3, 4], first.GetProperty("taintedVersions").EnumerateArray().Select(v => v.GetInt32()));

        // Then b and c together over the bus, twice: b also taints v2 (and v3 again); v1 serves; one effect.
        var rollback = CtmSystem.SignedByOperator(new RequestRollback
        {
            RequestId = Guid.NewGuid(), Dataset = dataset, CorruptBatchIds = [b, c], Reason = "clock skew, wider than thought", Operator = "carol", CorrelationId = Guid.NewGuid(),
        });
        await bus.Publish(rollback);
        await bus.Publish(rollback);
        var applied = await system.EventuallyAsync(async () =>
        {
            var list = await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/rollbacks");
            return list?.SingleOrDefault(r => r.GetProperty("requestId").GetGuid() == rollback.RequestId) is { } r && r.GetProperty("deliveries").GetInt32() == 2 ? r : (JsonElement?)null;
        }, RegistryFixture.Patience, "the two-batch rollback delivered twice");
        var outcome = applied!.Value.GetProperty("outcome");
        Assert.Equal([2, 3, 4], outcome.GetProperty("taintedVersions").EnumerateArray().Select(v => v.GetInt32()));
        Assert.Equal(new[] { b, c }.Order(), outcome.GetProperty("corruptBatchIds").EnumerateArray().Select(x => x.GetGuid()).Order());
        var taintedBy = outcome.GetProperty("taintedBy").EnumerateArray().ToDictionary(x => x.GetProperty("version").GetInt32(), x => x.GetProperty("batches").EnumerateArray().Select(g => g.GetGuid()).ToHashSet());
        Assert.True(taintedBy[2].SetEquals([b]) && taintedBy[3].SetEquals([b, c]) && taintedBy[4].SetEquals([c]), JsonSerializer.Serialize(outcome));
        var serving = await system.WaitServingAsync(dataset, 1);
        Assert.Equal(6, serving.GetProperty("generation").GetInt64());

        var versions = await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/versions");
        Assert.Equal([false, true, true, true], versions!.Select(v => v.GetProperty("tainted").GetBoolean()));
        HashSet<Guid> By(int version) => versions![version - 1].GetProperty("taintedByBatches").EnumerateArray().Select(x => x.GetGuid()).ToHashSet();
        Assert.True(By(2).SetEquals([b]) && By(3).SetEquals([b, c]) && By(4).SetEquals([c]), JsonSerializer.Serialize(versions));
        // v3 keeps the reason it was first tainted for.
        Assert.Contains($"batch {c}", versions![2].GetProperty("taintReason").GetString(), StringComparison.Ordinal);

        // The same request again, now over the API: the first answer, marked a duplicate, and no second effect.
        var again = await As("carol").PostAsJsonAsync($"v1/datasets/{dataset}/rollbacks", new { requestId = rollback.RequestId, corruptBatchIds = new[] { b, c }, reason = rollback.Reason, @operator = "carol" });
        var repeated = await again.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(repeated.GetProperty("duplicate").GetBoolean());
        Assert.Equal([2, 3, 4], repeated.GetProperty("taintedVersions").EnumerateArray().Select(v => v.GetInt32()));
        Assert.Equal(new[] { b, c }.Order(), repeated.GetProperty("selector").GetProperty("batchIds").EnumerateArray().Select(x => x.GetGuid()).Order());

        // Refused, each with a clear reason, nothing changed.
        var unknown = Guid.NewGuid();
        var partlyUnknown = await As("dave").PostAsJsonAsync($"v1/datasets/{dataset}/rollbacks", new { corruptBatchIds = new[] { a, unknown }, reason = "typo", @operator = "dave" });
        Assert.Equal(HttpStatusCode.NotFound, partlyUnknown.StatusCode);
        Assert.Contains($"batch {unknown} is unknown", await partlyUnknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var ghost = await As("dave").PostAsJsonAsync($"v1/datasets/{dataset}/rollbacks", new { upstream = "ghost", reason = "typo", @operator = "dave" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, ghost.StatusCode);
        Assert.Contains("matches upstream 'ghost'", await ghost.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var backwards = await As("dave").PostAsJsonAsync($"v1/datasets/{dataset}/rollbacks", new { ingestedFrom = now, ingestedTo = now.AddHours(-1), reason = "typo", @operator = "dave" });
        Assert.Equal(HttpStatusCode.BadRequest, backwards.StatusCode);
        Assert.Contains("must be before ingestedTo", await backwards.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var both = await As("dave").PostAsJsonAsync($"v1/datasets/{dataset}/rollbacks", new { targetVersion = 1, corruptBatchIds = new[] { a }, reason = "typo", @operator = "dave" });
        Assert.Equal(HttpStatusCode.BadRequest, both.StatusCode);
        await bus.Publish(CtmSystem.SignedByOperator(new RequestRollback { RequestId = Guid.NewGuid(), Dataset = dataset, Upstream = "ghost", Reason = "typo", Operator = "erin", CorrelationId = Guid.NewGuid() }));
        var audit = await system.EventuallyAsync(async () =>
        {
            var list = await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/audit");
            return list?.Any(x => x.GetProperty("actor").GetString() == "erin") == true ? RegistryFixture.OperatorActions(list) : null;
        }, RegistryFixture.Patience, "the refusal over the bus in the audit log");
        Assert.Equal(["rollback:bob", "rollback:carol", "rollback-refused:dave", "rollback-refused:dave", "rollback-refused:dave", "rollback-refused:dave", "rollback-refused:erin"],
            audit.Select(x => $"{x.GetProperty("action").GetString()}:{x.GetProperty("actor").GetString()}"));
        Assert.Equal("no-match", audit[^1].GetProperty("details").GetProperty("outcome").GetProperty("status").GetString());

        serving = await system.WaitServingAsync(dataset, 1);
        Assert.Equal(6, serving.GetProperty("generation").GetInt64());
        var batchA = await registry.GetFromJsonAsync<JsonElement>($"v1/batches/{a}/versions");
        Assert.NotEqual("corrupt", batchA.TryGetProperty("status", out var status) ? status.GetString() : null);
        Assert.Equal(2, (await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/rollbacks"))!.Count);
    }

    // HTTP rollbacks act as the named operator's key: the audit records the key's identity, not a body field.
    private HttpClient As(string identity)
    {
        if (!_clients.TryGetValue(identity, out var client))
        {
            client = system.Client("Registry", identity);
            _clients[identity] = client;
        }

        return client;
    }

    private readonly Dictionary<string, HttpClient> _clients = [];

    public void Dispose()
    {
        foreach (var client in _clients.Values)
        {
            client.Dispose();
        }
    }
}
