using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ctm.Testing;

namespace Ctm.Cli.Tests;

/// <summary>Every CLI command against the running system: its output for people, its --json, its errors and exit codes.</summary>
public sealed class CliTests(CliSystem system) : IClassFixture<CliSystem>
{
    private const string Dataset = "churn-cli";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(150);

    [Fact]
    public async Task Ingest_StreamsTheFile_PrintsTheBatchIdLast_AndItsReceiptWithJson()
    {
        var s = await ScenarioAsync();
        var file = WriteCsv(ChurnData.Csv(50, seed: 21), "plain.csv");
        var human = await CliRunner.RunAsync(system, "ingest", file, "--dataset", Dataset + "-plain");
        Assert.True(human.ExitCode == 0, human.ToString());
        var lastLine = human.Stdout.TrimEnd().Split('\n')[^1].Trim();
        Assert.True(Guid.TryParse(lastLine, out var id), human.ToString());

        using var ingest = system.Client("Ingest");
        var stored = await ingest.GetFromJsonAsync<JsonElement>($"v1/batches/{id}");
        Assert.Equal(50, stored.GetProperty("rowCount").GetInt64());
        Assert.NotEqual(s.Good1, id);
    }

    [Fact]
    public async Task Batches_StatusQuarantined_ListsOnlyTheBadBatch_WithItsReasons()
    {
        var s = await ScenarioAsync();
        var json = await CliRunner.RunAsync(system, "batches", Dataset, "--status", "quarantined", "--json");
        Assert.True(json.ExitCode == 0, json.ToString());
        var batch = Assert.Single(json.Json.EnumerateArray());
        Assert.Equal(s.Bad, batch.GetProperty("batchId").GetGuid());
        Assert.Contains(batch.GetProperty("reasons").EnumerateArray(), r => r.GetProperty("kind").GetString() == "missing-column");

        var human = await CliRunner.RunAsync(system, "batches", Dataset);
        Assert.True(human.ExitCode == 0, human.ToString());
        Assert.Contains(s.Bad.ToString(), human.Stdout, StringComparison.Ordinal);
        Assert.Contains("missing-column", human.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReleaseAndDiscard_UnknownBatchIsNotFound_DiscardTwiceIsRefused()
    {
        var s = await ScenarioAsync();
        var unknown = await CliRunner.RunAsync(system, "release", Guid.NewGuid().ToString(), "--reason", "checked", "--json");
        Assert.True(unknown.ExitCode == 3, unknown.ToString());
        Assert.Contains("no batch", unknown.Json.GetProperty("error").GetString(), StringComparison.Ordinal);

        var noReason = await CliRunner.RunAsync(system, "discard", s.Bad.ToString());
        Assert.True(noReason.ExitCode == 2, noReason.ToString());
        Assert.Contains("--reason", noReason.Stderr, StringComparison.Ordinal);

        // An accepted batch is not in quarantine: the Validator refuses, nothing changes.
        var notQuarantined = await CliRunner.RunAsync(system, "discard", s.Good1.ToString(), "--reason", "wrong one", "--json");
        Assert.True(notQuarantined.ExitCode == 4, notQuarantined.ToString());
        Assert.False(string.IsNullOrEmpty(notQuarantined.Json.GetProperty("hint").GetString()));
    }

    [Fact]
    public async Task Discard_TheQuarantinedBatch_IsRecordedWithTheOperatorAndReason()
    {
        var file = WriteCsv(ChurnData.Csv(60, seed: 23, wrongSchema: true), "bad-to-discard.csv");
        await ScenarioAsync();
        var ingested = await CliRunner.RunAsync(system, "ingest", file, "--dataset", Dataset, "--json");
        Assert.True(ingested.ExitCode == 0, ingested.ToString());
        var id = ingested.Json.GetProperty("batchId").GetGuid();
        await system.EventuallyAsync(async () =>
        {
            var r = await CliRunner.RunAsync(system, "batches", Dataset, "--status", "quarantined", "--json");
            return r.Json.EnumerateArray().Any(b => b.GetProperty("batchId").GetGuid() == id) ? r : null;
        }, Patience, $"batch {id} quarantined");

        var discarded = await CliRunner.RunAsync(system, "discard", id.ToString(), "--reason", "upstream bug 42", "--json");
        Assert.True(discarded.ExitCode == 0, discarded.ToString());
        Assert.Equal("discarded", discarded.Json.GetProperty("status").GetString());
        // A repeated discard is the same decision (idempotent); a release of a discarded batch is refused, and says what next.
        var again = await CliRunner.RunAsync(system, "discard", id.ToString(), "--reason", "again");
        Assert.True(again.ExitCode == 0, again.ToString());
        var release = await CliRunner.RunAsync(system, "release", id.ToString(), "--reason", "changed my mind");
        Assert.True(release.ExitCode == 4, release.ToString());
        Assert.Contains("next:", release.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VersionsAndLineage_ShowTheServedVersion_AndTheBatchesThatMadeIt()
    {
        var s = await ScenarioAsync();
        var versions = await CliRunner.RunAsync(system, "versions", Dataset, "--json");
        Assert.True(versions.ExitCode == 0, versions.ToString());
        Assert.NotEmpty(versions.Json.GetProperty("versions").EnumerateArray());
        Assert.True(versions.Json.GetProperty("servingVersion").GetInt32() >= 1, versions.ToString());
        // Live quality beside the training-time metrics: the Registry asked the Trainer (an array, empty until a batch is scored).
        Assert.All(versions.Json.GetProperty("versions").EnumerateArray(), v => Assert.Equal(JsonValueKind.Array, v.GetProperty("liveQuality").ValueKind));
        var table = await CliRunner.RunAsync(system, "versions", Dataset);
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("live", table.Stdout, StringComparison.Ordinal);

        var lineage = await CliRunner.RunAsync(system, "lineage", Dataset, "1", "--json");
        Assert.True(lineage.ExitCode == 0, lineage.ToString());
        var batches = lineage.Json.GetProperty("batches").EnumerateArray().Select(b => b.GetProperty("batchId").GetGuid()).ToList();
        Assert.Contains(s.Good1, batches);
        Assert.DoesNotContain(s.Bad, batches);

        var tree = await CliRunner.RunAsync(system, "lineage", Dataset, "1");
        Assert.True(tree.ExitCode == 0, tree.ToString());
        Assert.Contains($"{Dataset} v1", tree.Stdout, StringComparison.Ordinal);
        Assert.Contains(s.Good1.ToString(), tree.Stdout, StringComparison.Ordinal);

        var missing = await CliRunner.RunAsync(system, "lineage", Dataset, "99", "--json");
        Assert.True(missing.ExitCode == 3, missing.ToString());
        Assert.Contains("no version 99", missing.Json.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rollback_ToAVersion_WaitsForTheReplica_AndListsItsConfirmation()
    {
        await ScenarioAsync();
        var serving = await CliRunner.RunAsync(system, "versions", Dataset, "--json");
        var current = serving.Json.GetProperty("servingVersion").GetInt32();

        var rollback = await CliRunner.RunAsync(system, "rollback", Dataset, "--to", current.ToString(System.Globalization.CultureInfo.InvariantCulture), "--reason", "cli test", "--force", "--json");
        // Serving the version already served is a no-op the Registry may refuse; either way the answer is explicit.
        Assert.True(rollback.ExitCode is 0 or 4, rollback.ToString());
        if (rollback.ExitCode == 0)
        {
            var confirmation = Assert.Single(rollback.Json.GetProperty("confirmations").EnumerateArray());
            Assert.Equal("loaded", confirmation.GetProperty("state").GetString());
        }

        var neither = await CliRunner.RunAsync(system, "rollback", Dataset, "--reason", "x");
        Assert.True(neither.ExitCode == 2, neither.ToString());
        var unknownVersion = await CliRunner.RunAsync(system, "rollback", Dataset, "--to", "77", "--reason", "x", "--json");
        Assert.True(unknownVersion.ExitCode == 3, unknownVersion.ToString());
    }

    [Fact]
    public async Task Watch_WithHistory_ShowsDecisionsTrainingAndThePromotion_AsJsonLines()
    {
        await ScenarioAsync();
        var watch = await CliRunner.RunAsync(system, "watch", Dataset, "--history", "--until-version", "1", "--timeout", "60", "--json");
        Assert.True(watch.ExitCode == 0, watch.ToString());
        var kinds = watch.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("kind").GetString()).ToHashSet();
        Assert.Superset(new HashSet<string?> { "decision", "trained", "promotion", "serving" }, kinds);

        var never = await CliRunner.RunAsync(system, "watch", Dataset, "--until-version", "500", "--timeout", "2");
        Assert.True(never.ExitCode == 6, never.ToString());
    }

    [Fact]
    public async Task Status_ShowsEveryServiceHealthy_TheReplicasVersion_AndTheQueues()
    {
        await ScenarioAsync();
        var status = await CliRunner.RunAsync(system, "status", "--json");
        Assert.True(status.ExitCode is 0 or 6, status.ToString());
        var json = status.Json;
        Assert.All(json.GetProperty("services").EnumerateArray(), s => Assert.Equal("Healthy", s.GetProperty("status").GetString()));
        var dataset = json.GetProperty("serving").EnumerateArray().Single(d => d.GetProperty("dataset").GetString() == Dataset);
        var replica = Assert.Single(dataset.GetProperty("replicas").EnumerateArray());
        Assert.Equal(dataset.GetProperty("version").GetInt32(), replica.GetProperty("version").GetInt32());
        Assert.Contains(json.GetProperty("queues").EnumerateArray(), q => q.GetProperty("name").GetString()!.Contains("validate-batch", StringComparison.Ordinal));
        Assert.Equal(json.GetProperty("healthy").GetBoolean() ? 0 : 6, status.ExitCode);
    }

    [Fact]
    public async Task Errors_SayWhatToDoNext_WithTheirExitCodes()
    {
        var closed = $"http://127.0.0.1:{TestEnvironment.FreePort()}";
        var unreachable = await CliRunner.RunAsync(system, new Dictionary<string, string> { ["CTM_REGISTRY_URL"] = closed }, "versions", Dataset, "--json");
        Assert.True(unreachable.ExitCode == 5, unreachable.ToString());
        Assert.Contains("CTM_REGISTRY_URL", unreachable.Json.GetProperty("hint").GetString(), StringComparison.Ordinal);

        var badConfig = await CliRunner.RunAsync(system, new Dictionary<string, string> { ["CTM_INGEST_URL"] = "not a url" }, "batches", Dataset);
        Assert.True(badConfig.ExitCode == 7, badConfig.ToString());
        Assert.Contains("CTM_INGEST_URL", badConfig.Stderr, StringComparison.Ordinal);

        var missingFile = await CliRunner.RunAsync(system, "ingest", "/nonexistent/rows.csv", "--dataset", Dataset, "--json");
        Assert.True(missingFile.ExitCode == 3, missingFile.ToString());

        var unknownCommand = await CliRunner.RunAsync(system, "promote-everything");
        Assert.True(unknownCommand.ExitCode == 2, unknownCommand.ToString());
    }

    [Fact]
    public async Task WithoutAKey_AnUnknownKey_OrTheWrongRole_Exit8_AndSayWhichKeyToSet()
    {
        var s = await ScenarioAsync();
        var none = await CliRunner.RunAsync(system, new Dictionary<string, string> { ["CTM_API_KEY"] = "" }, "versions", Dataset, "--json");
        Assert.True(none.ExitCode == 8, none.ToString());
        Assert.Contains("none is set", none.Json.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains("CTM_API_KEY", none.Json.GetProperty("hint").GetString(), StringComparison.Ordinal);

        var unknown = await CliRunner.RunAsync(system, new Dictionary<string, string> { ["CTM_API_KEY"] = "ctm_not_a_key" }, "versions", Dataset);
        Assert.True(unknown.ExitCode == 8, unknown.ToString());
        Assert.Contains("does not know the API key in CTM_API_KEY", unknown.Stderr, StringComparison.Ordinal);

        // A reader may look but not discard; nothing changes.
        var reader = new Dictionary<string, string> { ["CTM_API_KEY"] = TestKeys.Key(TestKeys.OnlyRole("reader")) };
        Assert.Equal(0, (await CliRunner.RunAsync(system, reader, "versions", Dataset, "--json")).ExitCode);
        var refused = await CliRunner.RunAsync(system, reader, "discard", s.Bad.ToString(), "--reason", "a reader trying", "--json");
        Assert.True(refused.ExitCode == 8, refused.ToString());
        Assert.Contains("needs one of: operator", refused.Json.GetProperty("error").GetString(), StringComparison.Ordinal);
        using var validator = system.Client("Validator");
        Assert.NotEqual("discarded", (await validator.GetFromJsonAsync<JsonElement>($"v1/batches/{s.Bad}")).GetProperty("status").GetString());
    }

    private async Task<Scenario> ScenarioAsync()
    {
        await system.ScenarioLock.WaitAsync();
        try
        {
            if (system.Scenario is { } done)
            {
                return done;
            }

            using var validator = system.Client("Validator");
            (await validator.PutAsJsonAsync($"v1/datasets/{Dataset}/config", new { labelColumn = "churned", task = "binary" })).EnsureSuccessStatusCode();
            var good1 = await IngestAsync(ChurnData.Csv(400, seed: 1), "good1.csv");
            var good2 = await IngestAsync(ChurnData.Csv(400, seed: 2), "good2.csv");
            var bad = await IngestAsync(ChurnData.Csv(200, seed: 3, wrongSchema: true), "bad.csv");
            using var registry = system.Client("Registry");
            await system.EventuallyAsync(async () =>
            {
                var response = await registry.GetAsync($"v1/datasets/{Dataset}/serving");
                return response.StatusCode == HttpStatusCode.OK ? response : null;
            }, Patience, $"a version of {Dataset} serving");
            await system.EventuallyAsync(async () =>
            {
                var list = await validator.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{Dataset}/batches");
                return list is { Count: >= 3 } ? list : null;
            }, Patience, "three decisions");
            system.Scenario = new Scenario(Dataset, good1, good2, bad);
            return system.Scenario;
        }
        finally
        {
            system.ScenarioLock.Release();
        }
    }

    private async Task<Guid> IngestAsync(string csv, string name)
    {
        var result = await CliRunner.RunAsync(system, "ingest", WriteCsv(csv, name), "--dataset", Dataset, "--json");
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.Json.GetProperty("batchId").GetGuid();
    }

    private static string WriteCsv(string csv, string name)
    {
        var directory = Path.Combine(Path.GetTempPath(), "ctm-cli-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, name);
        File.WriteAllText(path, csv);
        return path;
    }
}
