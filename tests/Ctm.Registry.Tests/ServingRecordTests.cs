using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ctm.Testing;
using Npgsql;

namespace Ctm.Registry.Tests;

/// <summary>The serving record follows what the Predictor replicas confirm they serve, through the five running services.</summary>
[Collection(RegistryCollection.Name)]
public sealed class ServingRecordTests(RegistryFixture system)
{
    [Fact]
    public async Task Promotion_ConfirmedByAReplica_BecomesTheRecordAtItsLoadTime_AndAReplicaStartedLaterLoadsIt()
    {
        const string dataset = "confirmed";
        using var validator = system.Client("Validator");
        using var registry = system.Client("Registry");
        (await validator.PutAsJsonAsync($"v1/datasets/{dataset}/config", new { labelColumn = "churned", task = "binary" })).EnsureSuccessStatusCode();
        (await registry.PutAsJsonAsync($"v1/datasets/{dataset}/policy", new { mode = "auto", tolerance = 1.0, @operator = "setup" })).EnsureSuccessStatusCode();
        await system.UploadBatchAsync(dataset, ChurnData.Csv(300, seed: 41));
        var serving = await system.WaitServingAsync(dataset, 1);

        // The record begins when a replica swapped the version in, and that replica is listed with it.
        var replicas = serving.GetProperty("replicas").EnumerateArray().ToList();
        // Every live replica of the shared fixture serves it (other test classes may have started more than one).
        var before = replicas.Where(r => r.GetProperty("version").ValueKind == JsonValueKind.Number && r.GetProperty("version").GetInt32() == 1 && r.GetProperty("live").GetBoolean())
            .Select(r => r.GetProperty("replica").GetString()).ToHashSet();
        Assert.NotEmpty(before);
        var audit = await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/audit");
        var confirmed = Assert.Single(audit!, a => a.GetProperty("action").GetString() == "serving-confirmed");
        var confirmedBy = confirmed.GetProperty("details").GetProperty("confirmedBy").GetString();
        Assert.Contains(replicas, r => r.GetProperty("replica").GetString() == confirmedBy && r.GetProperty("since").GetDateTimeOffset() == serving.GetProperty("promotedAt").GetDateTimeOffset());
        Assert.False(serving.TryGetProperty("pending", out var pending) && pending.ValueKind != JsonValueKind.Null);

        // A replica that joins later loads what the record says, and says so.
        var late = await system.StartPredictorReplicaAsync();
        await system.EventuallyAsync(() => RegistryFixture.PredictedVersionAsync(late, dataset), RegistryFixture.Patience, "the late replica answering");
        Assert.Equal("1", await RegistryFixture.PredictedVersionAsync(late, dataset));
        var withLate = await system.EventuallyAsync(async () =>
        {
            var s = await registry.GetFromJsonAsync<JsonElement>($"v1/datasets/{dataset}/serving");
            return s.GetProperty("replicas").EnumerateArray().Count(r => r.GetProperty("live").GetBoolean() && r.GetProperty("version").GetInt32() == 1) >= before.Count + 1 ? (JsonElement?)s : null;
        }, RegistryFixture.Patience, "the late replica serving v1 in the record beside the others");
        Assert.Equal(1, withLate!.Value.GetProperty("version").GetInt32());
        Assert.Contains(withLate.Value.GetProperty("replicas").EnumerateArray(), r => !before.Contains(r.GetProperty("replica").GetString()) && r.GetProperty("version").GetInt32() == 1);
    }

    [Fact]
    public async Task Approval_OfAVersionEveryReplicaRefuses_KeepsTheOldVersionAsTheRecord_AndShowsEachReplicasReason()
    {
        const string dataset = "refused-approval";
        using var validator = system.Client("Validator");
        using var registry = system.Client("Registry");
        (await validator.PutAsJsonAsync($"v1/datasets/{dataset}/config", new { labelColumn = "churned", task = "binary" })).EnsureSuccessStatusCode();
        (await registry.PutAsJsonAsync($"v1/datasets/{dataset}/policy", new { mode = "auto", tolerance = 1.0, @operator = "setup" })).EnsureSuccessStatusCode();
        await system.UploadBatchAsync(dataset, ChurnData.Csv(300, seed: 51));
        var before = await system.WaitServingAsync(dataset, 1);

        // v2 is held back for an operator; then its stored artifact rots (one byte flipped at rest), so no replica can verify it.
        (await registry.PutAsJsonAsync($"v1/datasets/{dataset}/policy", new { mode = "manual", tolerance = 1.0, @operator = "setup" })).EnsureSuccessStatusCode();
        await system.UploadBatchAsync(dataset, ChurnData.Csv(300, seed: 52));
        await system.WaitVersionsAsync(dataset, 2);
        await using (var connection = new NpgsqlConnection(system.Infrastructure.ConnectionString))
        {
            await connection.OpenAsync();
            await using var flip = new NpgsqlCommand(
                "UPDATE registry.versions SET artifact = overlay(artifact placing decode(lpad(to_hex(get_byte(artifact, 100) # 1), 2, '0'), 'hex') from 101 for 1) WHERE dataset = @d AND version = 2",
                connection);
            flip.Parameters.AddWithValue("d", dataset);
            Assert.Equal(1, await flip.ExecuteNonQueryAsync());
        }

        var response = await registry.PostAsJsonAsync($"v1/datasets/{dataset}/versions/2/approve", new { @operator = "bob", reason = "looks better offline", waitSeconds = 60 });
        var approval = await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();
        var answers = approval.GetProperty("confirmations").EnumerateArray().ToList();
        Assert.NotEmpty(answers);
        Assert.All(answers, a => Assert.Equal("refused", a.GetProperty("state").GetString()));
        Assert.All(answers, a => Assert.Contains("hash-mismatch", a.GetProperty("reason").GetString(), StringComparison.Ordinal));
        Assert.Contains("every live replica refused v2", approval.GetProperty("confirmation").GetString(), StringComparison.Ordinal);

        // The record still says v1, from the same moment, and each live replica shows v1 with v2's refusal.
        var serving = await registry.GetFromJsonAsync<JsonElement>($"v1/datasets/{dataset}/serving");
        Assert.Equal(1, serving.GetProperty("version").GetInt32());
        Assert.Equal(before.GetProperty("generation").GetInt64(), serving.GetProperty("generation").GetInt64());
        Assert.Equal(before.GetProperty("promotedAt").GetDateTimeOffset(), serving.GetProperty("promotedAt").GetDateTimeOffset());
        Assert.False(serving.TryGetProperty("pending", out var pending) && pending.ValueKind != JsonValueKind.Null);
        var live = serving.GetProperty("replicas").EnumerateArray().Where(r => r.GetProperty("live").GetBoolean()).ToList();
        Assert.Equal(answers.Count, live.Count);
        Assert.All(live, r =>
        {
            Assert.Equal(1, r.GetProperty("version").GetInt32());
            Assert.Equal(2, r.GetProperty("lastRefusal").GetProperty("version").GetInt32());
            Assert.Contains("SHA-256", r.GetProperty("lastRefusal").GetProperty("reason").GetString(), StringComparison.Ordinal);
        });
        foreach (var predictor in system.Predictors)
        {
            Assert.Equal("1", await RegistryFixture.PredictedVersionAsync(predictor, dataset));
        }

        var audit = await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/audit");
        var refused = Assert.Single(audit!, a => a.GetProperty("action").GetString() == "promotion-refused");
        Assert.Equal(2, refused.GetProperty("details").GetProperty("version").GetInt32());
        Assert.Equal(1, refused.GetProperty("details").GetProperty("recordServes").GetInt32());
        Assert.Equal(live.Count, audit!.Count(a => a.GetProperty("action").GetString() == "replica-refused"));

        // What served at T: v1 throughout; the serving history never shows v2.
        var history = await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/serving/history");
        Assert.Equal([1], history!.Select(h => h.GetProperty("version").GetInt32()));
        var now = await registry.GetFromJsonAsync<JsonElement>($"v1/datasets/{dataset}/serving?at={Uri.EscapeDataString(DateTimeOffset.UtcNow.ToString("O"))}");
        Assert.Equal(1, now.GetProperty("version").GetInt32());

        // A rollback to v1 changes nothing, and its answer says every live replica serves it.
        var rollback = await registry.PostAsJsonAsync($"v1/datasets/{dataset}/rollbacks", new { targetVersion = 1, reason = "v2 cannot load", @operator = "bob" });
        Assert.Equal(HttpStatusCode.OK, rollback.StatusCode);
        var outcome = await rollback.Content.ReadFromJsonAsync<JsonElement>();
        Assert.All(outcome.GetProperty("confirmations").EnumerateArray(), a => Assert.Equal("loaded", a.GetProperty("state").GetString()));
        Assert.Equal(live.Count, outcome.GetProperty("confirmations").GetArrayLength());
    }
}
