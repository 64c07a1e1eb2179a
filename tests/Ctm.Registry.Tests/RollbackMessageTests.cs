using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ctm.Contracts;
using Ctm.Testing;

namespace Ctm.Registry.Tests;

/// <summary>
/// Rollback and registration messages as the bus may deliver them: repeated, late, racing. Lineages are chosen by the
/// test (ModelTrained with artifacts served by <see cref="ArtifactHost"/>), so no training is needed.
/// </summary>
[Collection(RegistryCollection.Name)]
public sealed class RollbackMessageTests(RegistryFixture system) : IDisposable
{
    [Fact]
    public async Task DuplicateLateAndRacingMessages_LeaveOneConsistentState()
    {
        var dataset = "messages-" + Guid.NewGuid().ToString("N")[..6];
        var bus = await system.BusAsync();
        using var registry = system.Client("Registry");
        var (a, b, c, d, e) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var early = DateTimeOffset.UtcNow.AddMinutes(-5);
        var artifact = system.Artifacts.Add(TestModels.Linear(1));

        // v1 [a]; v2 [a, b] from v1; v3 [a, c] from v2: v3 never saw b, but was warm-started from a model that did.
        var run2 = TestModels.Trained(dataset, artifact, [a, b], 1, 0.80, early);
        await bus.Publish(TestModels.Trained(dataset, artifact, [a], null, 0.80, early));
        await system.WaitServingAsync(dataset, 1);
        await bus.Publish(run2);
        await system.WaitServingAsync(dataset, 2);
        await bus.Publish(run2);
        await bus.Publish(TestModels.Trained(dataset, artifact, [a, c], 2, 0.81, early));
        await system.WaitServingAsync(dataset, 3);

        // The same rollback request delivered twice: one effect.
        var rollback = CtmSystem.SignedByOperator(new RequestRollback
        {
            RequestId = Guid.NewGuid(), Dataset = dataset, CorruptBatchId = b, Reason = "duplicated rows", Operator = "bob", CorrelationId = Guid.NewGuid(),
        });
        await bus.Publish(rollback);
        await bus.Publish(rollback);
        var serving = await system.WaitServingAsync(dataset, 1);
        Assert.Equal(4, serving.GetProperty("generation").GetInt64());
        await WaitDeliveriesAsync(registry, dataset, rollback.RequestId, 2);
        var versions = await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/versions");
        Assert.Equal([false, true, true], versions!.Select(v => v.GetProperty("tainted").GetBoolean()));
        Assert.Single(versions!, v => v.GetProperty("runId").GetGuid() == run2.RunId);

        // Racing the rollback: runs that began before it arrive after it. From tainted v3: tainted. On corrupt b: tainted.
        // From no parent, begun before the rollback: stale. None of them may override the rollback.
        await bus.Publish(TestModels.Trained(dataset, artifact, [a, c, d], 3, 0.95, early));
        await system.WaitVersionsAsync(dataset, 4);
        await bus.Publish(TestModels.Trained(dataset, artifact, [a, b, e], 1, 0.95, DateTimeOffset.UtcNow));
        await system.WaitVersionsAsync(dataset, 5);
        await bus.Publish(TestModels.Trained(dataset, artifact, [a, c, e], null, 0.95, early));
        await system.WaitVersionsAsync(dataset, 6);
        serving = await system.WaitServingAsync(dataset, 1);
        Assert.Equal(4, serving.GetProperty("generation").GetInt64());
        var decisions = await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/decisions");
        Assert.Equal(["tainted", "tainted", "stale"], decisions!.Where(x => x.GetProperty("version").GetInt32() >= 4).Select(x => x.GetProperty("decision").GetString()));
        versions = await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/versions");
        Assert.Equal([false, true, true, true, true, false], versions!.Select(v => v.GetProperty("tainted").GetBoolean()));

        // A clean run from the rolled-back-to version, begun after the rollback, is promoted as usual.
        await bus.Publish(TestModels.Trained(dataset, artifact, [a, c, e], 1, 0.82, DateTimeOffset.UtcNow));
        serving = await system.WaitServingAsync(dataset, 7);
        Assert.Equal(5, serving.GetProperty("generation").GetInt64());

        // A tainted target needs force; refused, nothing changes. With force it serves, audited as forced.
        var refused = await As("carol").PostAsJsonAsync($"v1/datasets/{dataset}/rollbacks", new { targetVersion = 3, reason = "compare", @operator = "carol" });
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("tainted", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        serving = await system.WaitServingAsync(dataset, 7);
        Assert.Equal(5, serving.GetProperty("generation").GetInt64());
        var forced = await As("carol").PostAsJsonAsync($"v1/datasets/{dataset}/rollbacks", new { targetVersion = 3, reason = "compare", @operator = "carol", force = true });
        Assert.True((await forced.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>()).GetProperty("forced").GetBoolean());
        await system.WaitServingAsync(dataset, 3);

        // The first request redelivered late (out of order): no effect, v3 keeps serving.
        await bus.Publish(rollback);
        await WaitDeliveriesAsync(registry, dataset, rollback.RequestId, 3);
        serving = await system.WaitServingAsync(dataset, 3);
        Assert.Equal(6, serving.GetProperty("generation").GetInt64());

        var history = await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/serving/history");
        Assert.Equal([1, 2, 3, 1, 7, 3], history!.Select(h => h.GetProperty("version").GetInt32()));
        Assert.Equal([1L, 2, 3, 4, 5, 6], history!.Select(h => h.GetProperty("generation").GetInt64()));
        // Null properties are left out of responses: exactly one promotion has not ended.
        Assert.Single(history!, h => !h.TryGetProperty("endedAt", out var ended) || ended.ValueKind == JsonValueKind.Null);
        var audit = await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/audit");
        Assert.Equal(["rollback:bob", "rollback-refused:carol", "rollback:carol"], RegistryFixture.OperatorActions(audit!).Select(x => $"{x.GetProperty("action").GetString()}:{x.GetProperty("actor").GetString()}"));
    }

    [Fact]
    public async Task CorruptBatchInEveryVersion_IsRefusedOverApiAndBus_AndNothingChanges()
    {
        var dataset = "refusal-" + Guid.NewGuid().ToString("N")[..6];
        var bus = await system.BusAsync();
        using var registry = system.Client("Registry");
        var (a, b) = (Guid.NewGuid(), Guid.NewGuid());
        var artifact = system.Artifacts.Add(TestModels.Linear(2));
        await bus.Publish(TestModels.Trained(dataset, artifact, [a], null, 0.8, DateTimeOffset.UtcNow));
        await system.WaitServingAsync(dataset, 1);
        await bus.Publish(TestModels.Trained(dataset, artifact, [a, b], 1, 0.8, DateTimeOffset.UtcNow));
        var before = await system.WaitServingAsync(dataset, 2);

        var response = await As("dave").PostAsJsonAsync($"v1/datasets/{dataset}/rollbacks", new { corruptBatchId = a, reason = "bad sensor", @operator = "dave" });
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("no clean version", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("nothing was changed", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var unknown = await As("dave").PostAsJsonAsync($"v1/datasets/{dataset}/rollbacks", new { corruptBatchId = Guid.NewGuid(), reason = "typo", @operator = "dave" });
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);

        await bus.Publish(CtmSystem.SignedByOperator(new RequestRollback { RequestId = Guid.NewGuid(), Dataset = dataset, CorruptBatchId = a, Reason = "bad sensor", Operator = "erin", CorrelationId = Guid.NewGuid() }));
        var audit = await system.EventuallyAsync(async () =>
        {
            var list = await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/audit");
            return list?.Any(x => x.GetProperty("actor").GetString() == "erin") == true ? RegistryFixture.OperatorActions(list) : null;
        }, RegistryFixture.Patience, "the refusal over the bus in the audit log");
        Assert.All(audit, x => Assert.Equal("rollback-refused", x.GetProperty("action").GetString()));
        Assert.Equal(3, audit.Count);

        var after = await system.WaitServingAsync(dataset, 2);
        Assert.Equal(before.GetProperty("generation").GetInt64(), after.GetProperty("generation").GetInt64());
        var versions = await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/versions");
        Assert.All(versions!, v => Assert.False(v.GetProperty("tainted").GetBoolean()));
        var influence = await registry.GetFromJsonAsync<JsonElement>($"v1/batches/{a}/versions");
        Assert.False(influence.TryGetProperty("status", out var status) && status.GetString() == "corrupt");
        Assert.Empty((await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/rollbacks"))!);
    }

    private Task WaitDeliveriesAsync(HttpClient registry, string dataset, Guid requestId, int deliveries) =>
        system.EventuallyAsync(async () =>
        {
            var list = await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/rollbacks");
            var entry = list?.SingleOrDefault(r => r.GetProperty("requestId").GetGuid() == requestId);
            return entry is { } x && x.GetProperty("deliveries").GetInt32() >= deliveries ? "ok" : null;
        }, RegistryFixture.Patience, $"rollback {requestId} seen {deliveries} times");

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
