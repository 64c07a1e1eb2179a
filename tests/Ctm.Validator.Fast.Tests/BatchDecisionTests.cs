using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Ctm.Contracts;
using Ctm.Validator.Tests;
using MassTransit;

namespace Ctm.Validator.Fast.Tests;

/// <summary>
/// The Validator's decision on <see cref="BatchIngested"/>: what it publishes, what it records, and that a redelivery or
/// a batch that can never be read has the effect an operator expects.
/// </summary>
public sealed class BatchDecisionTests(ValidatorService validator) : IClassFixture<ValidatorService>
{
    [Fact]
    public async Task BatchIngested_FirstCleanBatch_AcceptedWithInferredSchemaAndNoFault()
    {
        await ConfigureAsync("first-clean");
        var ingested = validator.Ingested("first-clean", new ChurnCsv { Seed = 11 }.ToString());

        await validator.PublishAsync(ingested);

        var consumed = await validator.Harness.ConsumedAsync<BatchIngested>(m => m.BatchId == ingested.BatchId);
        Assert.Null(consumed.Exception);
        var accepted = await validator.Harness.PublishedAsync<BatchAccepted>(m => m.BatchId == ingested.BatchId);
        Assert.Equal(1, accepted.SchemaVersion);
        Assert.Equal("churned", accepted.LabelColumn);
        Assert.Equal(TaskKind.Binary, accepted.Task);
        Assert.Equal(["monthly_fee", "plan", "support_calls", "tenure"], accepted.Features.Select(f => f.Name).Order(StringComparer.Ordinal));
        Assert.Equal(ingested.CorrelationId, accepted.CorrelationId);
        Assert.Empty(validator.Harness.PublishedSoFar<Fault<BatchIngested>>(f => f.Message.BatchId == ingested.BatchId));
        Assert.Equal("accepted", (await DecisionAsync(ingested.BatchId)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task BatchIngested_DeliveredTwice_OneDecisionAndOneBatchAccepted()
    {
        await ConfigureAsync("twice");
        var ingested = validator.Ingested("twice", new ChurnCsv { Seed = 21 }.ToString());

        // A redelivery is the same message again (RabbitMQ after a lost ack, the outbox relay after a crash).
        await validator.PublishAsync(ingested);
        await validator.PublishAsync(ingested);

        var consumed = await validator.Harness.ConsumedAsync<BatchIngested>(m => m.BatchId == ingested.BatchId, 2);
        Assert.All(consumed, c => Assert.Null(c.Exception));
        await validator.Harness.PublishedAsync<BatchAccepted>(m => m.BatchId == ingested.BatchId);
        Assert.Equal(1L, await validator.Database.ScalarAsync<long>("SELECT count(*) FROM validator.batches WHERE batch_id = @p0", ingested.BatchId));
        // One event in the outbox, and nothing left to relay: the second delivery announced nothing.
        Assert.Equal(1L, await OutboxCountAsync(nameof(BatchAccepted), ingested.BatchId));
        await HarnessExtensions.EventuallyAsync(
            async () => await validator.Database.ScalarAsync<long>("SELECT count(*) FROM validator.outbox WHERE sent_at IS NULL") == 0, "the outbox relayed");
        Assert.Single(validator.Harness.PublishedSoFar<BatchAccepted>(m => m.BatchId == ingested.BatchId));
    }

    [Fact]
    public async Task BatchIngested_FeeSentInCents_QuarantinedForDriftOnThatFeature()
    {
        await ConfigureAsync("cents");
        var good = validator.Ingested("cents", new ChurnCsv { Seed = 11 }.ToString());
        await validator.PublishAsync(good);
        await validator.Harness.PublishedAsync<BatchAccepted>(m => m.BatchId == good.BatchId);

        var drifted = validator.Ingested("cents", new ChurnCsv { Seed = 12, Fee = (1000, 10000) }.ToString());
        await validator.PublishAsync(drifted);

        var quarantined = await validator.Harness.PublishedAsync<BatchQuarantined>(m => m.BatchId == drifted.BatchId);
        // A unit change moves the median and the spread: both block, both name the fee, nothing else blocks.
        var blocking = quarantined.Reasons.Where(r => r.Severity == "block").ToList();
        Assert.NotEmpty(blocking);
        Assert.All(blocking, r =>
        {
            Assert.Equal("drift", r.Kind);
            Assert.Equal("monthly_fee", r.Feature);
            Assert.True(r.Measured > r.Threshold, $"measured {r.Measured} is not above the threshold {r.Threshold}");
        });
        Assert.Equal(1, quarantined.SchemaVersion);
        var consumed = await validator.Harness.ConsumedAsync<BatchIngested>(m => m.BatchId == drifted.BatchId);
        Assert.Null(consumed.Exception);
        Assert.Empty(validator.Harness.PublishedSoFar<BatchAccepted>(m => m.BatchId == drifted.BatchId));
        Assert.Empty(validator.Harness.PublishedSoFar<Fault<BatchIngested>>(f => f.Message.BatchId == drifted.BatchId));

        var decision = await DecisionAsync(drifted.BatchId);
        Assert.Equal("quarantined", decision.GetProperty("status").GetString());
        Assert.Contains(decision.GetProperty("reasons").EnumerateArray(), r => r.GetProperty("feature").GetString() == "monthly_fee");
    }

    [Fact]
    public async Task BatchIngested_NulByteInARow_RecordedFailedWithTheReasonAndFaulted()
    {
        await ConfigureAsync("nul");
        var lines = new ChurnCsv { Seed = 31, Rows = 20 }.ToString().Split('\n');
        lines[3] = "\0" + lines[3];
        var poison = validator.Ingested("nul", Encoding.UTF8.GetBytes(string.Join('\n', lines)));
        var fetches = validator.BatchFetches;

        await validator.PublishAsync(poison);

        var fault = await validator.Harness.PublishedAsync<Fault<BatchIngested>>(f => f.Message.BatchId == poison.BatchId);
        Assert.Contains("NUL", fault.Exceptions[0].Message, StringComparison.Ordinal);
        var consumed = await validator.Harness.ConsumedAsync<BatchIngested>(m => m.BatchId == poison.BatchId);
        Assert.NotNull(consumed.Exception);
        // Permanent: no retry can read it, so not retried (one fetch of the batch), to the error queue at once.
        Assert.Equal(fetches + 1, validator.BatchFetches);

        var decision = await DecisionAsync(poison.BatchId);
        Assert.Equal("failed", decision.GetProperty("status").GetString());
        var reason = Assert.Single(decision.GetProperty("reasons").EnumerateArray());
        Assert.Equal("unreadable", reason.GetProperty("kind").GetString());
        Assert.Contains("NUL", reason.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Contains("line 4", reason.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Empty(validator.Harness.PublishedSoFar<BatchAccepted>(m => m.BatchId == poison.BatchId));
        Assert.Empty(validator.Harness.PublishedSoFar<BatchQuarantined>(m => m.BatchId == poison.BatchId));
    }

    [Fact]
    public async Task BatchIngested_ContentNotWhatItsHashSays_RecordedFailedAndFaulted()
    {
        await ConfigureAsync("changed");
        var served = validator.Ingested("changed", new ChurnCsv { Seed = 41 }.ToString());
        var announced = served with { Sha256 = new string('0', 64) };

        await validator.PublishAsync(announced);

        var fault = await validator.Harness.PublishedAsync<Fault<BatchIngested>>(f => f.Message.BatchId == announced.BatchId);
        Assert.Contains("SHA-256", fault.Exceptions[0].Message, StringComparison.Ordinal);
        var decision = await DecisionAsync(announced.BatchId);
        Assert.Equal("failed", decision.GetProperty("status").GetString());
        Assert.Empty(validator.Harness.PublishedSoFar<BatchAccepted>(m => m.BatchId == announced.BatchId));
    }

    [Fact]
    public async Task ReleaseBatch_SentTwiceForAQuarantinedBatch_ReleasedOnceAndAcceptedAsReleased()
    {
        await ConfigureAsync("release");
        var good = validator.Ingested("release", new ChurnCsv { Seed = 11 }.ToString());
        await validator.PublishAsync(good);
        await validator.Harness.PublishedAsync<BatchAccepted>(m => m.BatchId == good.BatchId);
        var held = validator.Ingested("release", new ChurnCsv { Seed = 12, Fee = (1000, 10000) }.ToString());
        await validator.PublishAsync(held);
        await validator.Harness.PublishedAsync<BatchQuarantined>(m => m.BatchId == held.BatchId);

        var release = new ReleaseBatch { BatchId = held.BatchId, Dataset = "release", Operator = "alice", Reason = "fees really are that high", CorrelationId = held.CorrelationId };
        await validator.PublishAsync(release);
        await validator.PublishAsync(release);

        var consumed = await validator.Harness.ConsumedAsync<ReleaseBatch>(m => m.BatchId == held.BatchId, 2);
        Assert.All(consumed, c => Assert.Null(c.Exception));
        var accepted = await validator.Harness.PublishedAsync<BatchAccepted>(m => m.BatchId == held.BatchId);
        Assert.True(accepted.Released);
        Assert.Equal(1L, await OutboxCountAsync(nameof(BatchAccepted), held.BatchId));
        Assert.Equal("released", (await DecisionAsync(held.BatchId)).GetProperty("status").GetString());
        using var client = validator.Client();
        var audit = await client.GetFromJsonAsync<List<JsonElement>>("v1/datasets/release/audit");
        var entry = Assert.Single(audit!, a => a.GetProperty("action").GetString() == "release");
        Assert.Equal("fees really are that high", entry.GetProperty("reason").GetString());
    }

    private async Task ConfigureAsync(string dataset)
    {
        using var client = validator.Client();
        (await client.PutAsJsonAsync($"v1/datasets/{dataset}/config", new { labelColumn = "churned", task = "binary" })).EnsureSuccessStatusCode();
    }

    private async Task<JsonElement> DecisionAsync(Guid batchId)
    {
        using var client = validator.Client();
        return await client.GetFromJsonAsync<JsonElement>($"v1/batches/{batchId}");
    }

    private Task<long> OutboxCountAsync(string messageType, Guid batchId) =>
        validator.Database.ScalarAsync<long>(
            "SELECT count(*) FROM validator.outbox WHERE message_type = @p0 AND payload->>'batchId' = @p1",
            $"Ctm.Contracts.{messageType}", batchId.ToString());
}
