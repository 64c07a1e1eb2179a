using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ctm.Contracts;
using Ctm.Testing;

namespace Ctm.Registry.Tests;

/// <summary>
/// A corruption that lasts: batches 3, 4 and 5 of 6 come from a faulty upstream, in a warm-start chain v1..v6 trained by
/// the running Trainer. One rollback each names them by list, by the time range they were ingested in, and (over the
/// bus, twice) by their upstream.
/// </summary>
[Collection(RegistryCollection.Name)]
public sealed class LastingCorruptionFlowTests(RegistryFixture system)
{
    private const string CleanSource = "sensor-a";
    private const string FaultySource = "sensor-b";
    private static readonly int[] Corrupt = [3, 4, 5];
    private static readonly int[] Clean = [1, 2, 6];

    [Fact]
    public async Task ThreeOfSixBatchesCorrupt_ByListRangeOrUpstream_ServeV2OnEveryReplica_TaintV3ToV6_RetrainOnlyOnCleanBatches()
    {
        const string byList = "lasting-list", byRange = "lasting-range", byUpstream = "lasting-upstream";
        string[] datasets = [byList, byRange, byUpstream];
        using var validator = system.Client("Validator");
        using var registry = system.Client("Registry");
        using var trainer = system.Client("Trainer");
        foreach (var d in datasets)
        {
            (await validator.PutAsJsonAsync($"v1/datasets/{d}/config", new { labelColumn = "churned", task = "binary" })).EnsureSuccessStatusCode();
            // Every version promotes, so each one warm-starts from the one before.
            (await registry.PutAsJsonAsync($"v1/datasets/{d}/policy", new { mode = "auto", tolerance = 1.0, @operator = "setup" })).EnsureSuccessStatusCode();
        }

        while (system.Predictors.Count < 2)
        {
            await system.StartPredictorReplicaAsync();
        }

        // The three datasets get the same six batches in lock-step, so their chains train side by side.
        var receipts = datasets.ToDictionary(d => d, _ => new List<JsonElement>());
        for (var i = 1; i <= 6; i++)
        {
            foreach (var d in datasets)
            {
                receipts[d].Add(await system.UploadAsync(d, ChurnData.Csv(300, seed: 40 + i), Corrupt.Contains(i) ? FaultySource : CleanSource));
            }

            foreach (var d in datasets)
            {
                await system.WaitServingAsync(d, i);
                await EveryReplicaServesAsync(d, i);
            }
        }

        Guid Batch(string d, int i) => receipts[d][i - 1].GetProperty("batchId").GetGuid();
        foreach (var d in datasets)
        {
            var chain = await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{d}/versions");
            Assert.Equal([null, 1, 2, 3, 4, 5], chain!.Select(v => v.TryGetProperty("parentVersion", out var p) && p.ValueKind == JsonValueKind.Number ? p.GetInt32() : (int?)null));
            var batches = await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{d}/batches");
            Assert.All(Enumerable.Range(1, 6), i => Assert.Equal(Corrupt.Contains(i) ? FaultySource : CleanSource,
                batches!.Single(b => b.GetProperty("batchId").GetGuid() == Batch(d, i)).GetProperty("upstream").GetString()));
        }

        // Selectors that match nothing, or everything: refused, nothing changed.
        var unknownSource = await registry.PostAsJsonAsync($"v1/datasets/{byRange}/rollbacks", new { upstream = "sensor-z", reason = "typo", @operator = "bob" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, unknownSource.StatusCode);
        Assert.Contains($"no batch of dataset '{byRange}' matches upstream 'sensor-z'", await unknownSource.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var future = await registry.PostAsJsonAsync($"v1/datasets/{byRange}/rollbacks", new { ingestedFrom = DateTimeOffset.UtcNow.AddHours(1), reason = "typo", @operator = "bob" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, future.StatusCode);
        var badName = await registry.PostAsJsonAsync($"v1/datasets/{byRange}/rollbacks", new { upstream = "Sensor B", reason = "typo", @operator = "bob" });
        Assert.Equal(HttpStatusCode.BadRequest, badName.StatusCode);
        Assert.Contains("upstream 'Sensor B' is invalid", await badName.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var everything = await registry.PostAsJsonAsync($"v1/datasets/{byRange}/rollbacks",
            new { ingestedFrom = IngestedAt(receipts[byRange][0]).AddSeconds(-1), reason = "all of it", @operator = "bob" });
        Assert.Equal(HttpStatusCode.Conflict, everything.StatusCode);
        Assert.Contains("no clean version", await everything.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var unchanged = await system.WaitServingAsync(byRange, 6);
        Assert.Equal(6, unchanged.GetProperty("generation").GetInt64());
        Assert.All((await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{byRange}/versions"))!, v => Assert.False(v.GetProperty("tainted").GetBoolean()));
        Assert.DoesNotContain((await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{byRange}/batches"))!, b => b.GetProperty("status").GetString() == "corrupt");
        Assert.Empty((await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{byRange}/rollbacks"))!);

        // By list, with a retrain.
        using var asAlice = system.Client("Registry", "alice");
        using var asBob = system.Client("Registry", "bob");
        var listed = await asAlice.PostAsJsonAsync($"v1/datasets/{byList}/rollbacks", new
        {
            corruptBatchIds = Corrupt.Select(i => Batch(byList, i)).ToArray(),
            reason = "sensor-b reported Fahrenheit as Celsius",
            @operator = "alice",
            retrain = true,
        });
        var listOutcome = await listed.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();
        AssertOutcome(listOutcome, Corrupt.Select(i => Batch(byList, i)));
        Assert.Equal(JsonValueKind.String, listOutcome.GetProperty("retrainRequestId").ValueKind);

        // By the time range [between batches 2 and 3, between batches 5 and 6), no retrain.
        var ranged = await asBob.PostAsJsonAsync($"v1/datasets/{byRange}/rollbacks", new
        {
            ingestedFrom = Between(receipts[byRange][1], receipts[byRange][2]),
            ingestedTo = Between(receipts[byRange][4], receipts[byRange][5]),
            reason = "sensor-b reported Fahrenheit as Celsius",
            @operator = "bob",
        });
        var rangeOutcome = await ranged.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();
        AssertOutcome(rangeOutcome, Corrupt.Select(i => Batch(byRange, i)));
        Assert.False(rangeOutcome.TryGetProperty("retrainRequestId", out var noRetrain) && noRetrain.ValueKind != JsonValueKind.Null);

        // By upstream, over the bus, delivered twice: one effect.
        var bus = await system.BusAsync();
        var request = CtmSystem.SignedByOperator(new RequestRollback
        {
            RequestId = Guid.NewGuid(), Dataset = byUpstream, Upstream = FaultySource, Reason = "sensor-b reported Fahrenheit as Celsius", Operator = "carol",
            Retrain = true, CorrelationId = Guid.NewGuid(),
        });
        await bus.Publish(request);
        await bus.Publish(request);
        var applied = await system.EventuallyAsync(async () =>
        {
            var list = await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{byUpstream}/rollbacks");
            return list?.SingleOrDefault(r => r.GetProperty("requestId").GetGuid() == request.RequestId) is { } r && r.GetProperty("deliveries").GetInt32() == 2 ? r : (JsonElement?)null;
        }, RegistryFixture.Patience, "the upstream rollback delivered twice");
        AssertOutcome(applied!.Value.GetProperty("outcome"), Corrupt.Select(i => Batch(byUpstream, i)));

        var operators = new Dictionary<string, string> { [byList] = "alice", [byRange] = "bob", [byUpstream] = "carol" };
        foreach (var d in datasets)
        {
            var corrupt = Corrupt.Select(i => Batch(d, i)).ToArray();
            var versions = (await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{d}/versions"))!.Take(6).ToList();
            Assert.Equal([false, false, true, true, true, true], versions.Select(v => v.GetProperty("tainted").GetBoolean()));
            // Each tainted version names the corrupt batches that reached it: its own and its warm-start ancestors'.
            Assert.Equal([corrupt[..1], corrupt[..2], corrupt, corrupt], versions.Skip(2).Select(v => v.GetProperty("taintedByBatches").EnumerateArray().Select(b => b.GetGuid()).ToArray()));
            var lineage = await registry.GetFromJsonAsync<JsonElement>($"v1/datasets/{d}/versions/6/lineage");
            Assert.Equal(corrupt, lineage.GetProperty("taintedByBatches").EnumerateArray().Select(b => b.GetGuid()));
            var influence = await registry.GetFromJsonAsync<JsonElement>($"v1/batches/{Batch(d, 4)}/versions");
            Assert.Equal([4, 5, 6], influence.GetProperty("influenced").EnumerateArray().Select(v => v.GetInt32()));

            var batches = await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{d}/batches");
            Assert.All(Enumerable.Range(1, 6), i => Assert.Equal(Corrupt.Contains(i),
                batches!.Single(b => b.GetProperty("batchId").GetGuid() == Batch(d, i)).GetProperty("status").GetString() == "corrupt"));

            // One audited operation naming the set, who and why.
            var audit = await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{d}/audit");
            var entry = Assert.Single(audit!, a => a.GetProperty("action").GetString() == "rollback");
            Assert.Equal(operators[d], entry.GetProperty("actor").GetString());
            Assert.Equal("sensor-b reported Fahrenheit as Celsius", entry.GetProperty("details").GetProperty("reason").GetString());
            Assert.Equal(corrupt, entry.GetProperty("details").GetProperty("corruptBatchIds").EnumerateArray().Select(b => b.GetGuid()));

            // The Trainer and the Validator each heard of every batch (BatchDeclaredCorrupt per batch).
            await system.EventuallyAsync(async () =>
            {
                var known = await trainer.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{d}/batches");
                var excluded = known!.Where(b => b.GetProperty("excluded").GetBoolean()).Select(b => b.GetProperty("batchId").GetGuid()).ToHashSet();
                return excluded.SetEquals(corrupt) ? "ok" : null;
            }, RegistryFixture.Patience, $"the Trainer excluding exactly batches 3-5 of {d}");
            await system.EventuallyAsync(async () =>
            {
                var decided = await validator.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{d}/batches");
                var marked = decided!.Where(b => b.GetProperty("status").GetString() == "corrupt").Select(b => b.GetProperty("batchId").GetGuid()).ToHashSet();
                return marked.SetEquals(corrupt) ? "ok" : null;
            }, RegistryFixture.Patience, $"the Validator marking exactly batches 3-5 of {d} corrupt");
        }

        // Without a retrain, v2 (the last version that saw none of them) serves on every replica.
        await EveryReplicaServesAsync(byRange, 2);
        var history = await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{byRange}/serving/history");
        Assert.Equal([1, 2, 3, 4, 5, 6, 2], history!.Select(h => h.GetProperty("version").GetInt32()));

        // With one, v2 served first, then v7: warm-started from v2 on the clean batches only.
        foreach (var d in new[] { byList, byUpstream })
        {
            await system.WaitServingAsync(d, 7);
            await EveryReplicaServesAsync(d, 7);
            var retrained = await registry.GetFromJsonAsync<JsonElement>($"v1/datasets/{d}/versions/7");
            Assert.Equal(2, retrained.GetProperty("parentVersion").GetInt32());
            Assert.False(retrained.GetProperty("tainted").GetBoolean());
            Assert.Equal(Clean.Select(i => Batch(d, i)).Order(), retrained.GetProperty("batchIds").EnumerateArray().Select(b => b.GetGuid()).Order());
            history = await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{d}/serving/history");
            Assert.Equal([1, 2, 3, 4, 5, 6, 2, 7], history!.Select(h => h.GetProperty("version").GetInt32()));
        }
    }

    /// <summary>
    /// A rollback's retrain and its BatchDeclaredCorrupt messages reach the Trainer on different queues, in no fixed
    /// order: the retrain carries the exclusions itself. Here no BatchDeclaredCorrupt is sent at all.
    /// </summary>
    [Fact]
    public async Task RetrainCarryingExclusions_NeverTrainsOnThem_BeforeTheTrainerHearsTheyAreCorrupt()
    {
        const string dataset = "retrain-exclusions";
        using var validator = system.Client("Validator");
        using var registry = system.Client("Registry");
        using var trainer = system.Client("Trainer");
        (await validator.PutAsJsonAsync($"v1/datasets/{dataset}/config", new { labelColumn = "churned", task = "binary" })).EnsureSuccessStatusCode();
        (await registry.PutAsJsonAsync($"v1/datasets/{dataset}/policy", new { mode = "auto", tolerance = 1.0, @operator = "setup" })).EnsureSuccessStatusCode();
        var batches = new List<Guid>();
        for (var i = 1; i <= 3; i++)
        {
            batches.Add(await system.UploadBatchAsync(dataset, ChurnData.Csv(300, seed: 60 + i)));
            await system.WaitServingAsync(dataset, i);
        }

        var bus = await system.BusAsync();
        await bus.Publish(new RequestRetrain
        {
            RequestId = Guid.NewGuid(), Dataset = dataset, RequestedBy = "dora", ExcludeBatchIds = [batches[1]], ExcludeReason = "declared corrupt by dora: duplicated rows",
            CorrelationId = Guid.NewGuid(),
        });

        var versions = await system.WaitVersionsAsync(dataset, 4);
        Assert.Equal(new[] { batches[0], batches[2] }.Order(), versions[3].GetProperty("batchIds").EnumerateArray().Select(b => b.GetGuid()).Order());
        var known = await trainer.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/batches");
        var excluded = Assert.Single(known!, b => b.GetProperty("excluded").GetBoolean());
        Assert.Equal(batches[1], excluded.GetProperty("batchId").GetGuid());
        Assert.Equal("declared corrupt by dora: duplicated rows", excluded.GetProperty("excludedReason").GetString());
    }

    private static void AssertOutcome(JsonElement outcome, IEnumerable<Guid> corrupt)
    {
        Assert.Equal("done", outcome.GetProperty("status").GetString());
        Assert.Equal(6, outcome.GetProperty("previousVersion").GetInt32());
        Assert.Equal(2, outcome.GetProperty("servingVersion").GetInt32());
        Assert.Equal([3, 4, 5, 6], outcome.GetProperty("taintedVersions").EnumerateArray().Select(v => v.GetInt32()));
        Assert.Equal(corrupt, outcome.GetProperty("corruptBatchIds").EnumerateArray().Select(b => b.GetGuid()));
    }

    private static DateTimeOffset IngestedAt(JsonElement receipt) => receipt.GetProperty("ingestedAt").GetDateTimeOffset();

    private static DateTimeOffset Between(JsonElement earlier, JsonElement later) =>
        IngestedAt(earlier) + ((IngestedAt(later) - IngestedAt(earlier)) / 2);

    private async Task EveryReplicaServesAsync(string dataset, int version)
    {
        var expected = version.ToString(CultureInfo.InvariantCulture);
        foreach (var replica in system.Predictors)
        {
            await system.EventuallyAsync(async () => await RegistryFixture.PredictedVersionAsync(replica, dataset) == expected ? "ok" : null,
                RegistryFixture.Patience, $"Predictor {replica.BaseUrl} answering {dataset} with v{version}");
        }
    }
}
