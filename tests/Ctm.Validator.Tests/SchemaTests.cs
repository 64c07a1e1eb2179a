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
    public async Task NewDomainValue_ProposalApproved_SchemaGainsValue_BatchReleased_AndNextSuchBatchAccepted()
    {
        const string dataset = "proposal-approve";
        using var ingest = system.Client("Ingest");
        using var validator = system.Client("Validator");
        Assert.Equal("accepted", (await system.DecisionAsync(await UploadAsync(ingest, dataset, new ChurnCsv { Seed = 51, Rows = 400 }.ToString()))).GetProperty("status").GetString());

        // A few rows with a new plan: too few to move the distribution (no drift), enough to break the domain.
        var held = await UploadAsync(ingest, dataset, new ChurnCsv { Seed = 52, Rows = 400, NewPlanFraction = 0.02 }.ToString());
        var decision = await system.DecisionAsync(held);
        Assert.Equal("quarantined", decision.GetProperty("status").GetString());
        Assert.Equal(["out-of-domain"], Kinds(decision));

        var proposal = Assert.Single(await ListAsync(validator, $"v1/datasets/{dataset}/proposals?status=pending"));
        Assert.Equal(held, proposal.GetProperty("batchId").GetGuid());
        var change = Assert.Single(proposal.GetProperty("changes").EnumerateArray());
        Assert.Equal("addDomainValues", change.GetProperty("op").GetString());
        Assert.Equal(["enterprise"], change.GetProperty("values").EnumerateArray().Select(v => v.GetString()));
        Assert.Contains("enterprise", Assert.Single(proposal.GetProperty("descriptions").EnumerateArray()).GetString(), StringComparison.Ordinal);

        var result = await PostAsync(validator, $"v1/proposals/{proposal.GetProperty("id").GetGuid()}/approve", new { @operator = "frank", reason = "enterprise plan is real" });
        Assert.Equal(2, result.GetProperty("version").GetInt32());
        Assert.Equal(held, result.GetProperty("releasedBatch").GetGuid());
        Assert.Equal("released", (await system.DecisionAsync(held)).GetProperty("status").GetString());

        var schema = await validator.GetFromJsonAsync<JsonElement>($"v1/datasets/{dataset}/schema");
        Assert.Equal(2, schema.GetProperty("version").GetInt32());
        Assert.Equal("frank", schema.GetProperty("createdBy").GetString());
        var plan = schema.GetProperty("definition").GetProperty("columns").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "plan");
        Assert.Contains("enterprise", plan.GetProperty("domain").EnumerateArray().Select(v => v.GetString()));

        var next = await UploadAsync(ingest, dataset, new ChurnCsv { Seed = 53, Rows = 400, NewPlanFraction = 0.02 }.ToString());
        var nextDecision = await system.DecisionAsync(next);
        Assert.Equal("accepted", nextDecision.GetProperty("status").GetString());
        Assert.Equal(2, nextDecision.GetProperty("schemaVersion").GetInt32());

        var audit = await ListAsync(validator, $"v1/datasets/{dataset}/audit");
        Assert.Single(audit, a => a.GetProperty("action").GetString() == "approve-proposal" && a.GetProperty("operator").GetString() == "frank");
        Assert.Single(audit, a => a.GetProperty("action").GetString() == "release" && a.GetProperty("batchId").GetGuid() == held);
    }

    [Fact]
    public async Task ProposalRejected_SchemaUnchanged_BatchStaysQuarantined()
    {
        const string dataset = "proposal-reject";
        using var ingest = system.Client("Ingest");
        using var validator = system.Client("Validator");
        Assert.Equal("accepted", (await system.DecisionAsync(await UploadAsync(ingest, dataset, new ChurnCsv { Seed = 61, Rows = 400 }.ToString()))).GetProperty("status").GetString());
        var held = await UploadAsync(ingest, dataset, new ChurnCsv { Seed = 62, Rows = 400, NewPlanFraction = 0.02 }.ToString());
        Assert.Equal("quarantined", (await system.DecisionAsync(held)).GetProperty("status").GetString());

        var proposal = Assert.Single(await ListAsync(validator, $"v1/datasets/{dataset}/proposals"));
        await PostAsync(validator, $"v1/proposals/{proposal.GetProperty("id").GetGuid()}/reject", new { @operator = "grace", reason = "no such plan exists" });

        Assert.Equal("rejected", (await validator.GetFromJsonAsync<JsonElement>($"v1/proposals/{proposal.GetProperty("id").GetGuid()}")).GetProperty("status").GetString());
        Assert.Equal(1, (await validator.GetFromJsonAsync<JsonElement>($"v1/datasets/{dataset}/schema")).GetProperty("version").GetInt32());
        Assert.Equal("quarantined", (await system.DecisionAsync(held)).GetProperty("status").GetString());
        await PostAsync(validator, $"v1/proposals/{proposal.GetProperty("id").GetGuid()}/approve", new { @operator = "grace", reason = "late" }, System.Net.HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task OperatorWidensRange_BatchWithHigherFeesThenAccepted()
    {
        const string dataset = "widen-range";
        using var ingest = system.Client("Ingest");
        using var validator = system.Client("Validator");
        Assert.Equal("accepted", (await system.DecisionAsync(await UploadAsync(ingest, dataset, new ChurnCsv { Seed = 71, Rows = 400 }.ToString()))).GetProperty("status").GetString());

        var before = await UploadAsync(ingest, dataset, new ChurnCsv { Seed = 72, Rows = 400, Fee = (10, 130) }.ToString());
        Assert.Contains("out-of-range", Kinds(await system.DecisionAsync(before)));

        var bad = await validator.PostAsJsonAsync($"v1/datasets/{dataset}/schema/changes", new { @operator = "heidi", reason = "price rise", changes = new object[] { new { op = "widenRange", feature = "no_such_column", min = 0, max = 1 } } });
        Assert.Equal(System.Net.HttpStatusCode.Conflict, bad.StatusCode);

        var changed = await PostAsync(validator, $"v1/datasets/{dataset}/schema/changes", new
        {
            @operator = "heidi",
            reason = "price rise",
            changes = new object[] { new { op = "widenRange", feature = "monthly_fee", min = 10, max = 200 }, new { op = "markOptional", feature = "support_calls", minPresence = 0 } },
        });
        Assert.Equal(2, changed.GetProperty("version").GetInt32());
        var versions = await ListAsync(validator, $"v1/datasets/{dataset}/schema/versions");
        Assert.Equal([1, 2], versions.Select(v => v.GetProperty("version").GetInt32()));
        var fee = versions[1].GetProperty("definition").GetProperty("columns").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "monthly_fee");
        Assert.Equal(200, fee.GetProperty("max").GetDouble());

        // Same fees in a fresh sample; the window holds only the first batch, so drift is switched off (dataset-wide '*') to test the range alone.
        (await validator.PutAsJsonAsync($"v1/datasets/{dataset}/thresholds/*", new { @operator = "heidi", reason = "prices move", drift = new { significance = 1e-4, jensenShannonFloor = 0.01, lInfinityFloor = 0.03, enabled = false } })).EnsureSuccessStatusCode();
        var after = await UploadAsync(ingest, dataset, new ChurnCsv { Seed = 73, Rows = 400, Fee = (10, 130) }.ToString());
        var decision = await system.DecisionAsync(after);
        Assert.True(decision.GetProperty("status").GetString() == "accepted", decision.ToString());
    }
}
