using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Ctm.Contracts;
using MassTransit;

namespace Ctm.Trainer.Fast.Tests;

/// <summary>
/// <see cref="BatchAccepted"/> in, a run and <see cref="ModelTrained"/> out: one run per accepted batch whatever the
/// redeliveries, the artifact served as announced, and a message PostgreSQL can never store faulted at once.
/// </summary>
public sealed class TrainingTests(TrainerService trainer) : IClassFixture<TrainerService>
{
    [Fact]
    public async Task BatchAccepted_DefaultPolicy_TrainsOnItAndAnnouncesTheArtifactItServes()
    {
        var accepted = trainer.Accepted("trains", ChurnData.Csv(300, seed: 3));

        await trainer.PublishAsync(accepted);

        var consumed = await trainer.Harness.ConsumedAsync<BatchAccepted>(m => m.BatchId == accepted.BatchId);
        Assert.Null(consumed.Exception);
        var trained = await trainer.Harness.PublishedAsync<ModelTrained>(m => m.Dataset == "trains");
        Assert.Equal([accepted.BatchId], trained.BatchIds);
        Assert.Equal(TaskKind.Binary, trained.Task);
        Assert.Equal(1, trained.SchemaVersion);
        Assert.Null(trained.ParentVersion);
        Assert.Equal(accepted.CorrelationId, trained.CorrelationId);
        Assert.True(trained.Metrics.ContainsKey("accuracy"), $"metrics: {string.Join(", ", trained.Metrics.Keys)}");

        // The claim check the Registry redeems: the Trainer serves the bytes it announced.
        Assert.StartsWith(TrainerService.BaseUrl, trained.ArtifactLocation, StringComparison.Ordinal);
        using var client = trainer.Client(TestKeys.OnlyRole("service"));
        var artifact = await client.GetByteArrayAsync(new Uri(trained.ArtifactLocation).PathAndQuery);
        Assert.Equal(trained.ArtifactSha256, Convert.ToHexStringLower(SHA256.HashData(artifact)));
        Assert.Equal(trained.ArtifactSize, artifact.LongLength);
        Assert.Empty(trainer.Harness.PublishedSoFar<Fault<BatchAccepted>>(f => f.Message.BatchId == accepted.BatchId));
    }

    [Fact]
    public async Task BatchAccepted_DeliveredTwice_OneBatchOneJobOneRun()
    {
        var accepted = trainer.Accepted("twice", ChurnData.Csv(300, seed: 4));

        await trainer.PublishAsync(accepted);
        await trainer.PublishAsync(accepted);

        var consumed = await trainer.Harness.ConsumedAsync<BatchAccepted>(m => m.BatchId == accepted.BatchId, 2);
        Assert.All(consumed, c => Assert.Null(c.Exception));
        await trainer.Harness.PublishedAsync<ModelTrained>(m => m.Dataset == "twice");
        await HarnessExtensions.EventuallyAsync(
            async () => await trainer.Database.ScalarAsync<long>("SELECT count(*) FROM trainer.jobs WHERE dataset = 'twice' AND status IN ('pending', 'running')") == 0,
            "no job of 'twice' left to run");
        Assert.Equal(1L, await trainer.Database.ScalarAsync<long>("SELECT count(*) FROM trainer.batches WHERE batch_id = @p0", accepted.BatchId));
        Assert.Equal(1L, await trainer.Database.ScalarAsync<long>("SELECT count(*) FROM trainer.jobs WHERE batch_id = @p0", accepted.BatchId));
        Assert.Equal(1L, await trainer.Database.ScalarAsync<long>("SELECT count(*) FROM trainer.runs WHERE dataset = 'twice'"));
        Assert.Single(await RunsAsync("twice"));
    }

    [Fact]
    public async Task BatchAccepted_DatasetNamePostgresCannotStore_FaultedWithoutARun()
    {
        // A NUL in text: PostgreSQL refuses it (22021) however often it is retried.
        var poison = trainer.Accepted("bad\0name", ChurnData.Csv(50, seed: 5));

        await trainer.PublishAsync(poison);

        var fault = await trainer.Harness.PublishedAsync<Fault<BatchAccepted>>(f => f.Message.BatchId == poison.BatchId);
        Assert.Contains("22021", string.Join(" ", fault.Exceptions.Select(e => e.Message + " " + e.InnerException?.Message)), StringComparison.Ordinal);
        Assert.Equal(0L, await trainer.Database.ScalarAsync<long>("SELECT count(*) FROM trainer.jobs WHERE batch_id = @p0", poison.BatchId));
        Assert.Empty(trainer.Harness.PublishedSoFar<ModelTrained>(m => m.BatchIds.Contains(poison.BatchId)));
    }

    private async Task<List<JsonElement>> RunsAsync(string dataset)
    {
        using var client = trainer.Client();
        return (await client.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/runs"))!;
    }
}
