using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ctm.Contracts;
using MassTransit;
using static Ctm.Validator.Tests.Api;

namespace Ctm.Validator.Tests;

/// <summary>Quarantined batches and operators, through the five running services on the real RabbitMQ and PostgreSQL.</summary>
public sealed class QuarantineTests(ValidatorFixture system) : IClassFixture<ValidatorFixture>
{
    [Fact]
    public async Task QuarantinedBatches_OneReleasedOneDiscarded_ReleasedFlowsOnToTrainingAndDiscardedNever()
    {
        const string dataset = "release-discard";
        using var ingest = system.Client("Ingest");
        using var validator = system.Client("Validator");
        using var trainer = system.Client("Trainer");
        (await validator.PutAsJsonAsync($"v1/datasets/{dataset}/config", new { labelColumn = "churned", task = "binary" })).EnsureSuccessStatusCode();

        var good = await UploadAsync(ingest, dataset, new ChurnCsv { Seed = 11 }.ToString());
        Assert.Equal("accepted", (await system.DecisionAsync(good)).GetProperty("status").GetString());
        // Fees sent in cents: a unit change blocks even while the dataset's history is short.
        var toRelease = await UploadAsync(ingest, dataset, new ChurnCsv { Seed = 12, Fee = (1000, 10000) }.ToString());
        var toDiscard = await UploadAsync(ingest, dataset, new ChurnCsv { Seed = 13, RenameTenure = true }.ToString());

        var held = await system.DecisionAsync(toRelease);
        Assert.Equal("quarantined", held.GetProperty("status").GetString());
        var unit = held.GetProperty("reasons").EnumerateArray().First(r => r.GetProperty("kind").GetString() == "drift" && r.GetProperty("severity").GetString() == "block");
        Assert.Equal("monthly_fee", unit.GetProperty("feature").GetString());
        Assert.True(unit.GetProperty("measured").GetDouble() > unit.GetProperty("threshold").GetDouble());
        Assert.Equal("quarantined", (await system.DecisionAsync(toDiscard)).GetProperty("status").GetString());

        // Who (the caller's key) and why are required.
        using var asAlice = system.Client("Validator", "alice");
        using var asBob = system.Client("Validator", "bob");
        await PostAsync(asAlice, $"v1/batches/{toRelease}/release", new { @operator = "alice" }, HttpStatusCode.BadRequest);

        var discarded = await PostAsync(asBob, $"v1/batches/{toDiscard}/discard", new { @operator = "bob", reason = "upstream renamed a column; they will resend" });
        Assert.Equal("discarded", discarded.GetProperty("status").GetString());
        // A discarded batch cannot come back.
        await PostAsync(asBob, $"v1/batches/{toDiscard}/release", new { @operator = "bob", reason = "changed my mind" }, HttpStatusCode.Conflict);

        var released = await PostAsync(asAlice, $"v1/batches/{toRelease}/release", new { @operator = "alice", reason = "fees really are that high today" });
        Assert.Equal("released", released.GetProperty("status").GetString());
        // Releasing again has no second effect.
        await PostAsync(asAlice, $"v1/batches/{toRelease}/release", new { @operator = "alice", reason = "again" });

        // The released batch reaches a run and a registered version; the discarded one never does.
        await system.EventuallyAsync(async () =>
        {
            var trained = await TrainedBatchesAsync(system, dataset);
            using var registry = system.Client("Registry");
            var versions = await ListAsync(registry, $"v1/datasets/{dataset}/versions");
            var inVersion = false;
            foreach (var v in versions)
            {
                var lineage = await registry.GetFromJsonAsync<JsonElement>($"v1/datasets/{dataset}/versions/{v.GetProperty("version").GetInt32()}");
                inVersion |= Guids(lineage.GetProperty("batchIds")).Contains(toRelease);
            }

            return inVersion && trained.Contains(good) ? trained : null;
        }, Patience, "a registered version trained on the released batch");

        var jobs = await ListAsync(trainer, $"v1/datasets/{dataset}/jobs");
        Assert.Single(jobs, j => j.GetProperty("triggerKey").GetString()!.Contains($"{toRelease}:released", StringComparison.Ordinal));
        Assert.DoesNotContain(jobs, j => j.GetProperty("triggerKey").GetString()!.Contains(toDiscard.ToString(), StringComparison.Ordinal));
        Assert.DoesNotContain(toDiscard, await TrainedBatchesAsync(system, dataset));

        var audit = await ListAsync(validator, $"v1/datasets/{dataset}/audit");
        var release = Assert.Single(audit, a => a.GetProperty("action").GetString() == "release");
        Assert.Equal("alice", release.GetProperty("operator").GetString());
        Assert.Equal("fees really are that high today", release.GetProperty("reason").GetString());
        Assert.Equal(toRelease, release.GetProperty("batchId").GetGuid());
        var discard = Assert.Single(audit, a => a.GetProperty("action").GetString() == "discard");
        Assert.Equal("bob", discard.GetProperty("operator").GetString());
    }

    [Fact]
    public async Task ReleaseAndDiscardCommandsOnTheBus_ActAsTheApi_RedeliveryHasOneEffect_AndBatchDiscardedIsPublished()
    {
        const string dataset = "bus-commands";
        using var ingest = system.Client("Ingest");
        using var validator = system.Client("Validator");
        using var trainer = system.Client("Trainer");
        var bus = await system.BusAsync();
        var discardedEvents = new List<BatchDiscarded>();
        var handle = bus.ConnectReceiveEndpoint("validator-tests-discarded", e => e.Handler<BatchDiscarded>(c =>
        {
            lock (discardedEvents)
            {
                discardedEvents.Add(c.Message);
            }

            return Task.CompletedTask;
        }));
        await handle.Ready;

        var good = await UploadAsync(ingest, dataset, new ChurnCsv { Seed = 21 }.ToString());
        Assert.Equal("accepted", (await system.DecisionAsync(good)).GetProperty("status").GetString());
        var toRelease = await UploadAsync(ingest, dataset, new ChurnCsv { Seed = 22, Fee = (1000, 10000) }.ToString());
        var toDiscard = await UploadAsync(ingest, dataset, new ChurnCsv { Seed = 23, RenameTenure = true }.ToString());
        Assert.Equal("quarantined", (await system.DecisionAsync(toRelease)).GetProperty("status").GetString());
        Assert.Equal("quarantined", (await system.DecisionAsync(toDiscard)).GetProperty("status").GetString());

        var release = new ReleaseBatch { BatchId = toRelease, Dataset = dataset, Operator = "carol", Reason = "checked by hand", CorrelationId = Guid.NewGuid() };
        await bus.Publish(release);
        await bus.Publish(release);
        await bus.Publish(new DiscardBatch { BatchId = toDiscard, Dataset = dataset, Operator = "dave", Reason = "garbage", CorrelationId = Guid.NewGuid() });

        await system.EventuallyAsync(async () => (await system.DecisionAsync(toRelease)).GetProperty("status").GetString() == "released" ? "" : null, Patience, "the release");
        await system.EventuallyAsync(async () => (await system.DecisionAsync(toDiscard)).GetProperty("status").GetString() == "discarded" ? "" : null, Patience, "the discard");
        var discarded = await system.EventuallyAsync(() =>
        {
            lock (discardedEvents)
            {
                return Task.FromResult(discardedEvents.FirstOrDefault(d => d.BatchId == toDiscard));
            }
        }, Patience, "BatchDiscarded on the bus");
        Assert.Equal("dave", discarded.Operator);
        Assert.Equal("garbage", discarded.Reason);

        var jobs = await system.EventuallyAsync(async () =>
        {
            var list = await ListAsync(trainer, $"v1/datasets/{dataset}/jobs");
            return list.Any(j => j.GetProperty("triggerKey").GetString()!.Contains($"{toRelease}:released", StringComparison.Ordinal)) ? list : null;
        }, Patience, "a training job for the released batch");
        Assert.Single(jobs, j => j.GetProperty("triggerKey").GetString()!.Contains(toRelease.ToString(), StringComparison.Ordinal));
        Assert.DoesNotContain(jobs, j => j.GetProperty("triggerKey").GetString()!.Contains(toDiscard.ToString(), StringComparison.Ordinal));

        var audit = await ListAsync(validator, $"v1/datasets/{dataset}/audit");
        Assert.Single(audit, a => a.GetProperty("action").GetString() == "release" && a.GetProperty("operator").GetString() == "carol");
        Assert.Single(audit, a => a.GetProperty("action").GetString() == "discard" && a.GetProperty("operator").GetString() == "dave");
        await handle.StopAsync();
    }

    [Fact]
    public async Task BatchDeclaredCorrupt_StatusBecomesCorrupt_AndItIsAudited()
    {
        const string dataset = "corrupt";
        using var ingest = system.Client("Ingest");
        using var validator = system.Client("Validator");
        var batch = await UploadAsync(ingest, dataset, new ChurnCsv { Seed = 31 }.ToString());
        Assert.Equal("accepted", (await system.DecisionAsync(batch)).GetProperty("status").GetString());

        var bus = await system.BusAsync();
        await bus.Publish(new BatchDeclaredCorrupt
        {
            BatchId = batch, Dataset = dataset, Operator = "erin", Reason = "sensor fault", TaintedVersions = [], CorrelationId = Guid.NewGuid(), DeclaredAt = DateTimeOffset.UtcNow,
        });

        await system.EventuallyAsync(async () => (await system.DecisionAsync(batch)).GetProperty("status").GetString() == "corrupt" ? "" : null, Patience, "the corrupt status");
        var audit = await ListAsync(validator, $"v1/datasets/{dataset}/audit");
        var entry = Assert.Single(audit, a => a.GetProperty("action").GetString() == "declare-corrupt");
        Assert.Equal("erin", entry.GetProperty("operator").GetString());
        // A corrupt batch cannot be released into training.
        await PostAsync(validator, $"v1/batches/{batch}/release", new { @operator = "erin", reason = "oops" }, HttpStatusCode.Conflict);
    }
}
