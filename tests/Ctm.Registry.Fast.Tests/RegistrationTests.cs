using System.Net.Http.Json;
using System.Text.Json;
using Ctm.Contracts;
using Ctm.ServiceDefaults.Signing;
using MassTransit;

namespace Ctm.Registry.Fast.Tests;

/// <summary>
/// <see cref="ModelTrained"/> in, versions and signed promotions out: registered once whatever the redeliveries, refused
/// when the artifact is not the announced one, and rolled back over the bus only by a signed request.
/// </summary>
public sealed class RegistrationTests(RegistryService registry) : IClassFixture<RegistryService>
{
    [Fact]
    public async Task ModelTrained_FirstOfADataset_RegisteredAsV1AndPromotedWithAValidSignature()
    {
        var batch = Guid.NewGuid();
        var trained = registry.Trained("first", 1.5f, 0.8, [batch]);

        await registry.PublishAsync(trained);

        var consumed = await registry.Harness.ConsumedAsync<ModelTrained>(m => m.RunId == trained.RunId);
        Assert.Null(consumed.Exception);
        var promoted = await registry.Harness.PublishedAsync<ModelPromoted>(m => m.Dataset == "first");
        Assert.Equal(1, promoted.Version);
        Assert.Equal(1, promoted.Generation);
        Assert.Equal(trained.RunId, promoted.RunId);
        Assert.Equal(trained.ArtifactSha256, promoted.ArtifactSha256);
        using (var verifier = DecisionVerifier.FromPem(registry.RegistryKey.PublicKeyPem(), "registry key"))
        {
            Assert.True(verifier.Verify(SignedPayload.Promotion(promoted), promoted.Signature), "the promotion's signature does not verify with the Registry's key");
        }

        var version = Assert.Single(await VersionsAsync("first"));
        Assert.Equal(1, version.GetProperty("version").GetInt32());
        Assert.Equal([batch], version.GetProperty("batchIds").EnumerateArray().Select(b => b.GetGuid()));
        Assert.Empty(registry.Harness.PublishedSoFar<Fault<ModelTrained>>(f => f.Message.RunId == trained.RunId));
    }

    [Fact]
    public async Task ModelTrained_DeliveredTwice_OneVersionAndOnePromotion()
    {
        var trained = registry.Trained("twice", 2.5f, 0.8, [Guid.NewGuid()]);

        await registry.PublishAsync(trained);
        await registry.PublishAsync(trained);

        var consumed = await registry.Harness.ConsumedAsync<ModelTrained>(m => m.RunId == trained.RunId, 2);
        Assert.All(consumed, c => Assert.Null(c.Exception));
        await registry.Harness.PublishedAsync<ModelPromoted>(m => m.Dataset == "twice");
        Assert.Single(await VersionsAsync("twice"));
        Assert.Equal(1L, await registry.Database.ScalarAsync<long>("SELECT count(*) FROM registry.versions WHERE run_id = @p0", trained.RunId));
        Assert.Equal(1L, await registry.Database.ScalarAsync<long>(
            "SELECT count(*) FROM registry.outbox WHERE message_type = 'Ctm.Contracts.ModelPromoted' AND payload->>'dataset' = 'twice'"));
    }

    [Fact]
    public async Task ModelTrained_ArtifactNotWhatItsHashSays_FaultedAndNothingRegistered()
    {
        var trained = registry.Trained("changed", 3.5f, 0.8, [Guid.NewGuid()]) with { ArtifactSha256 = new string('a', 64) };
        var fetches = registry.ArtifactFetches;

        await registry.PublishAsync(trained);

        var fault = await registry.Harness.PublishedAsync<Fault<ModelTrained>>(f => f.Message.RunId == trained.RunId);
        Assert.Contains("SHA-256", fault.Exceptions[0].Message, StringComparison.Ordinal);
        Assert.NotNull((await registry.Harness.ConsumedAsync<ModelTrained>(m => m.RunId == trained.RunId)).Exception);
        // Permanent: the same bytes would fail the same way, so not retried (one fetch), straight to the error queue.
        Assert.Equal(fetches + 1, registry.ArtifactFetches);
        Assert.Empty(await VersionsAsync("changed"));
        Assert.Empty(registry.Harness.PublishedSoFar<ModelPromoted>(m => m.Dataset == "changed"));
    }

    [Fact]
    public async Task RequestRollback_UnsignedThenSigned_OnlyTheSignedOneRollsBack()
    {
        var v1 = registry.Trained("rollback", 4.5f, 0.70, [Guid.NewGuid()]);
        await registry.PublishAsync(v1);
        await registry.Harness.PublishedAsync<ModelPromoted>(m => m.Dataset == "rollback" && m.Version == 1);
        var v2 = registry.Trained("rollback", 5.5f, 0.90, [Guid.NewGuid()], parent: 1);
        await registry.PublishAsync(v2);
        var second = await registry.Harness.PublishedAsync<ModelPromoted>(m => m.Dataset == "rollback" && m.Version == 2);

        var request = new RequestRollback
        {
            RequestId = Guid.NewGuid(), Dataset = "rollback", TargetVersion = 1, Reason = "v2 answers nonsense", Operator = "alice", CorrelationId = Guid.NewGuid(),
        };
        await registry.PublishAsync(request);

        var forged = await registry.Harness.ConsumedAsync<RequestRollback>(m => m.RequestId == request.RequestId);
        Assert.Null(forged.Exception);
        var refusal = Assert.Single(await AuditAsync("rollback"), a => a.GetProperty("action").GetString() == "rollback-refused");
        Assert.Equal("bus (unauthenticated)", refusal.GetProperty("actor").GetString());
        Assert.Empty(registry.Harness.PublishedSoFar<ModelPromoted>(m => m.Dataset == "rollback" && m.Generation > second.Generation));

        var signed = registry.SignedByOperator(request with { RequestId = Guid.NewGuid() });
        await registry.PublishAsync(signed);

        var rolledBack = await registry.Harness.PublishedAsync<ModelPromoted>(m => m.Dataset == "rollback" && m.Generation > second.Generation);
        Assert.Equal(1, rolledBack.Version);
        Assert.Empty(registry.Harness.PublishedSoFar<Fault<RequestRollback>>(f => f.Message.Dataset == "rollback"));
    }

    private async Task<List<JsonElement>> VersionsAsync(string dataset)
    {
        using var client = registry.Client();
        return (await client.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/versions"))!;
    }

    private async Task<List<JsonElement>> AuditAsync(string dataset)
    {
        using var client = registry.Client();
        return (await client.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/audit"))!;
    }
}
