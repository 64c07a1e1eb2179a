using System.Net.Http.Json;
using System.Text.Json;
using static Ctm.Validator.Tests.Api;

namespace Ctm.Validator.Tests;

/// <summary>Schemas inferred from the first batch, changed by operators, and the changes the Validator proposes.</summary>
public sealed class SchemaTests(ValidatorFixture system) : IClassFixture<ValidatorFixture>
{
    [Fact]
    public async Task FirstBatch_InfersVersionOneWithTypesDomainsAndRanges()
    {
        const string dataset = "inferred";
        using var ingest = system.Client("Ingest");
        using var validator = system.Client("Validator");
        var first = await UploadAsync(ingest, dataset, new ChurnCsv { Seed = 41 }.ToString());
        Assert.Equal("accepted", (await system.DecisionAsync(first)).GetProperty("status").GetString());

        var schema = await validator.GetFromJsonAsync<JsonElement>($"v1/datasets/{dataset}/schema");
        Assert.Equal(1, schema.GetProperty("version").GetInt32());
        Assert.Equal("churned", schema.GetProperty("schema").GetProperty("label").GetString());
        Assert.Equal("binary", schema.GetProperty("schema").GetProperty("task").GetString());
        var columns = schema.GetProperty("definition").GetProperty("columns").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!);
        Assert.Equal("Categorical", columns["plan"].GetProperty("type").GetString());
        Assert.Equal(["basic", "pro", "team"], columns["plan"].GetProperty("domain").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal("Numeric", columns["monthly_fee"].GetProperty("type").GetString());
        Assert.InRange(columns["monthly_fee"].GetProperty("min").GetDouble(), 10, 11);
        Assert.InRange(columns["monthly_fee"].GetProperty("max").GetDouble(), 99, 100);

        var statistics = await validator.GetFromJsonAsync<JsonElement>($"v1/batches/{first}/statistics");
        Assert.Equal(300, statistics.GetProperty("rowCount").GetInt64());
        var fee = statistics.GetProperty("columns").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "monthly_fee").GetProperty("numeric");
        Assert.InRange(fee.GetProperty("mean").GetDouble(), 45, 65);
        Assert.InRange(fee.GetProperty("quantiles").GetProperty("p50").GetDouble(), 40, 70);
        var label = statistics.GetProperty("columns").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "churned").GetProperty("categorical");
        Assert.Equal(2, label.GetProperty("distinct").GetInt64());
    }

    [Fact]
    public async Task NewDomainValueInFewRows_AcceptedWithAWarning_SchemaWidenedByTheValidator_AndAudited()
    {
        const string dataset = "domain-grows";
        using var ingest = system.Client("Ingest");
        using var validator = system.Client("Validator");
        Assert.Equal("accepted", (await system.DecisionAsync(await UploadAsync(ingest, dataset, new ChurnCsv { Seed = 51, Rows = 400 }.ToString()))).GetProperty("status").GetString());

        // A few rows with a new plan: a domain that grows, not a fault.
        var grown = await UploadAsync(ingest, dataset, new ChurnCsv { Seed = 52, Rows = 400, NewPlanFraction = 0.02 }.ToString());
        var decision = await system.DecisionAsync(grown);
        Assert.Equal("accepted", decision.GetProperty("status").GetString());
        var warning = Assert.Single(decision.GetProperty("reasons").EnumerateArray(), r => r.GetProperty("kind").GetString() == "out-of-domain");
        Assert.Equal("warn", warning.GetProperty("severity").GetString());
        Assert.Equal("plan", warning.GetProperty("feature").GetString());
        Assert.Equal(2, decision.GetProperty("schemaVersion").GetInt32());

        var schema = await validator.GetFromJsonAsync<JsonElement>($"v1/datasets/{dataset}/schema");
        Assert.Equal(2, schema.GetProperty("version").GetInt32());
        Assert.Equal("validator", schema.GetProperty("createdBy").GetString());
        Assert.Contains("enterprise", schema.GetProperty("reason").GetString(), StringComparison.Ordinal);
        var plan = schema.GetProperty("definition").GetProperty("columns").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "plan");
        Assert.Contains("enterprise", plan.GetProperty("domain").EnumerateArray().Select(v => v.GetString()));
        Assert.Empty(await ListAsync(validator, $"v1/datasets/{dataset}/proposals"));

        var audit = await ListAsync(validator, $"v1/datasets/{dataset}/audit");
        var widened = Assert.Single(audit, a => a.GetProperty("action").GetString() == "widen-schema");
        Assert.Equal("validator", widened.GetProperty("operator").GetString());
        Assert.Equal(grown, widened.GetProperty("batchId").GetGuid());
        Assert.Contains("enterprise", widened.GetProperty("reason").GetString(), StringComparison.Ordinal);

        // The next batch with the plan finds it in the domain: nothing to warn about.
        var next = await system.DecisionAsync(await UploadAsync(ingest, dataset, new ChurnCsv { Seed = 53, Rows = 400, NewPlanFraction = 0.02 }.ToString()));
        Assert.Equal("accepted", next.GetProperty("status").GetString());
        Assert.DoesNotContain("out-of-domain", Kinds(next));
    }

    /// <summary>A dataset whose domains settle after one batch and whose null needs one batch of history: a settled domain invaded by a new value in half the rows.</summary>
    private async Task<Guid> SettledThenReplacedAsync(string dataset, int seed)
    {
        using var ingest = system.Client("Ingest");
        using var validator = system.Client("Validator");
        (await validator.PutAsJsonAsync($"v1/datasets/{dataset}/thresholds/*", new { @operator = "ops", reason = "settle fast", drift = new { minHistory = 1, settleBatches = 1 } })).EnsureSuccessStatusCode();
        for (var s = seed; s < seed + 2; s++)
        {
            Assert.Equal("accepted", (await system.DecisionAsync(await UploadAsync(ingest, dataset, new ChurnCsv { Seed = s, Rows = 400 }.ToString()))).GetProperty("status").GetString());
        }

        var held = await UploadAsync(ingest, dataset, new ChurnCsv { Seed = seed + 2, Rows = 400, NewPlanFraction = 0.5 }.ToString());
        var decision = await system.DecisionAsync(held);
        Assert.Equal("quarantined", decision.GetProperty("status").GetString());
        var unseen = Assert.Single(decision.GetProperty("reasons").EnumerateArray(), r => r.GetProperty("kind").GetString() == "out-of-domain");
        Assert.Equal("block", unseen.GetProperty("severity").GetString());
        Assert.Contains("enterprise", unseen.GetProperty("description").GetString(), StringComparison.Ordinal);
        return held;
    }

    [Fact]
    public async Task SettledDomainHalfReplaced_Blocked_ReleaseWithApplyProposals_WidensTheSchemaAndAuditsIt()
    {
        const string dataset = "release-applies";
        using var validator = system.Client("Validator");
        var held = await SettledThenReplacedAsync(dataset, 61);
        var before = (await validator.GetFromJsonAsync<JsonElement>($"v1/datasets/{dataset}/schema")).GetProperty("version").GetInt32();
        var proposal = Assert.Single(await ListAsync(validator, $"v1/datasets/{dataset}/proposals?status=pending"));
        Assert.Contains(proposal.GetProperty("changes").EnumerateArray(), c => c.GetProperty("op").GetString() == "addDomainValues" && c.GetProperty("values").EnumerateArray().Any(v => v.GetString() == "enterprise"));

        using var asFrank = system.Client("Validator", "frank");
        var released = await PostAsync(asFrank, $"v1/batches/{held}/release", new { @operator = "frank", reason = "enterprise plan launched", applyProposals = true });

        Assert.Equal("released", released.GetProperty("status").GetString());
        var schema = await validator.GetFromJsonAsync<JsonElement>($"v1/datasets/{dataset}/schema");
        Assert.Equal(before + 1, schema.GetProperty("version").GetInt32());
        Assert.Equal("frank", schema.GetProperty("createdBy").GetString());
        var plan = schema.GetProperty("definition").GetProperty("columns").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "plan");
        Assert.Contains("enterprise", plan.GetProperty("domain").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal("approved", (await validator.GetFromJsonAsync<JsonElement>($"v1/proposals/{proposal.GetProperty("id").GetGuid()}")).GetProperty("status").GetString());
        var audit = await ListAsync(validator, $"v1/datasets/{dataset}/audit");
        Assert.Single(audit, a => a.GetProperty("action").GetString() == "approve-proposal" && a.GetProperty("operator").GetString() == "frank" && a.GetProperty("batchId").GetGuid() == held);
        Assert.Single(audit, a => a.GetProperty("action").GetString() == "release" && a.GetProperty("batchId").GetGuid() == held);
    }

    [Fact]
    public async Task ReleaseBatchOnTheBusWithApplyProposals_WidensTheSchemaAsTheApiDoes()
    {
        const string dataset = "release-applies-bus";
        using var validator = system.Client("Validator");
        var held = await SettledThenReplacedAsync(dataset, 67);
        var before = (await validator.GetFromJsonAsync<JsonElement>($"v1/datasets/{dataset}/schema")).GetProperty("version").GetInt32();
        var bus = await system.BusAsync();

        await bus.Publish(new Ctm.Contracts.ReleaseBatch { BatchId = held, Dataset = dataset, Operator = "heidi", Reason = "enterprise plan launched", ApplyProposals = true, CorrelationId = Guid.NewGuid() });

        await system.EventuallyAsync(async () => (await system.DecisionAsync(held)).GetProperty("status").GetString() == "released" ? "" : null, TimeSpan.FromSeconds(60), "the release");
        var schema = await validator.GetFromJsonAsync<JsonElement>($"v1/datasets/{dataset}/schema");
        Assert.Equal(before + 1, schema.GetProperty("version").GetInt32());
        var plan = schema.GetProperty("definition").GetProperty("columns").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "plan");
        Assert.Contains("enterprise", plan.GetProperty("domain").EnumerateArray().Select(v => v.GetString()));
        Assert.Empty(await ListAsync(validator, $"v1/datasets/{dataset}/proposals?status=pending"));
    }

    [Fact]
    public async Task ProposalRejected_SchemaUnchanged_BatchStaysQuarantined()
    {
        const string dataset = "proposal-reject";
        using var validator = system.Client("Validator");
        var held = await SettledThenReplacedAsync(dataset, 64);
        var version = (await validator.GetFromJsonAsync<JsonElement>($"v1/datasets/{dataset}/schema")).GetProperty("version").GetInt32();

        var proposal = Assert.Single(await ListAsync(validator, $"v1/datasets/{dataset}/proposals"));
        await PostAsync(validator, $"v1/proposals/{proposal.GetProperty("id").GetGuid()}/reject", new { @operator = "grace", reason = "no such plan exists" });

        Assert.Equal("rejected", (await validator.GetFromJsonAsync<JsonElement>($"v1/proposals/{proposal.GetProperty("id").GetGuid()}")).GetProperty("status").GetString());
        Assert.Equal(version, (await validator.GetFromJsonAsync<JsonElement>($"v1/datasets/{dataset}/schema")).GetProperty("version").GetInt32());
        Assert.Equal("quarantined", (await system.DecisionAsync(held)).GetProperty("status").GetString());
        await PostAsync(validator, $"v1/proposals/{proposal.GetProperty("id").GetGuid()}/approve", new { @operator = "grace", reason = "late" }, System.Net.HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task HigherFeesSlightlyBeyondTheFirstRange_RangeWidenedAutomatically_ThenOperatorChangesAreNewVersions()
    {
        const string dataset = "widen-range";
        using var ingest = system.Client("Ingest");
        using var validator = system.Client("Validator");
        Assert.Equal("accepted", (await system.DecisionAsync(await UploadAsync(ingest, dataset, new ChurnCsv { Seed = 71, Rows = 400 }.ToString()))).GetProperty("status").GetString());

        // The first batch's range is a sample's range: fees a little higher widen it instead of blocking.
        var higher = await system.DecisionAsync(await UploadAsync(ingest, dataset, new ChurnCsv { Seed = 72, Rows = 400, Fee = (10, 130) }.ToString()));
        Assert.Equal("accepted", higher.GetProperty("status").GetString());
        var outOfRange = Assert.Single(higher.GetProperty("reasons").EnumerateArray(), r => r.GetProperty("kind").GetString() == "out-of-range");
        Assert.Equal("warn", outOfRange.GetProperty("severity").GetString());
        var widened = await validator.GetFromJsonAsync<JsonElement>($"v1/datasets/{dataset}/schema");
        Assert.Equal(2, widened.GetProperty("version").GetInt32());
        Assert.Equal("validator", widened.GetProperty("createdBy").GetString());
        Assert.InRange(widened.GetProperty("definition").GetProperty("columns").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "monthly_fee").GetProperty("max").GetDouble(), 125, 130);

        using var asHeidi = system.Client("Validator", "heidi");
        var bad = await asHeidi.PostAsJsonAsync($"v1/datasets/{dataset}/schema/changes", new { @operator = "heidi", reason = "price rise", changes = new object[] { new { op = "widenRange", feature = "no_such_column", min = 0, max = 1 } } });
        Assert.Equal(System.Net.HttpStatusCode.Conflict, bad.StatusCode);

        var changed = await PostAsync(asHeidi, $"v1/datasets/{dataset}/schema/changes", new
        {
            @operator = "heidi",
            reason = "price rise",
            changes = new object[] { new { op = "widenRange", feature = "monthly_fee", min = 10, max = 200 }, new { op = "markOptional", feature = "support_calls", minPresence = 0 } },
        });
        Assert.Equal(3, changed.GetProperty("version").GetInt32());
        var versions = await ListAsync(validator, $"v1/datasets/{dataset}/schema/versions");
        Assert.Equal([1, 2, 3], versions.Select(v => v.GetProperty("version").GetInt32()));
        Assert.Equal("heidi", versions[2].GetProperty("createdBy").GetString());
        var fee = versions[2].GetProperty("definition").GetProperty("columns").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "monthly_fee");
        Assert.Equal(200, fee.GetProperty("max").GetDouble());

        // Fees up to 190 now fall inside the operator's range: no range warning.
        var after = await system.DecisionAsync(await UploadAsync(ingest, dataset, new ChurnCsv { Seed = 73, Rows = 400, Fee = (10, 130) }.ToString()));
        Assert.True(after.GetProperty("status").GetString() == "accepted", after.ToString());
        Assert.DoesNotContain("out-of-range", Kinds(after));
    }
}
