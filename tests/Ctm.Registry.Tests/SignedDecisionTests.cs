using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Ctm.Contracts;
using Ctm.ServiceDefaults.Signing;
using Ctm.Testing;

namespace Ctm.Registry.Tests;

/// <summary>
/// Messages forged by anyone who can publish to the bus: a promotion with a high generation and no, a foreign or a
/// mismatched signature, and rollbacks no operator signed. None may take effect; the real decisions that follow must.
/// </summary>
[Collection(RegistryCollection.Name)]
public sealed class SignedDecisionTests(RegistryFixture system)
{
    [Fact]
    public async Task ForgedPromotion_IsRefusedAndReported_RealDecisionsStillTakeEffect()
    {
        var (dataset, generation) = await ServeTwoVersionsAsync("forged-promotion");
        var bus = await system.BusAsync();
        using var registry = system.Client("Registry");

        // The forger copies v1's real artifact location and hash, and claims a generation far above the Registry's.
        var v1 = await registry.GetFromJsonAsync<JsonElement>($"v1/datasets/{dataset}/versions/1");
        var sha1 = v1.GetProperty("sha256").GetString()!;
        var url1 = new Uri(registry.BaseAddress!, $"v1/datasets/{dataset}/versions/1/artifact").ToString();
        ModelPromoted Forged(long g) => new()
        {
            Dataset = dataset, Version = 1, CorrelationId = Guid.NewGuid(), Generation = g, ArtifactLocation = url1, ArtifactSha256 = sha1,
            Reason = "rollback", PromotedAt = DateTimeOffset.UtcNow,
        };
        using var foreignKey = NewKey();
        var forgeries = new[]
        {
            Forged(1000),
            Forged(1001) with { Signature = foreignKey.Sign(SignedPayload.Promotion(Forged(1001))) },
            // A real Registry signature of the next generation, replayed with the generation raised.
            Forged(1002) with { Signature = CtmSystem.RegistryKey.Sign(SignedPayload.Promotion(Forged(generation + 1))) },
        };

        foreach (var forged in forgeries)
        {
            await bus.Publish(forged);
            await system.EventuallyAsync(async () =>
            {
                var serving = await registry.GetFromJsonAsync<JsonElement>($"v1/datasets/{dataset}/serving");
                var live = serving.GetProperty("replicas").EnumerateArray().Where(r => r.GetProperty("live").GetBoolean()).ToList();
                return live.Count > 0 && live.All(r => r.TryGetProperty("lastRefusal", out var f) && f.ValueKind == JsonValueKind.Object
                    && f.GetProperty("generation").GetInt64() == forged.Generation && f.GetProperty("kind").GetString() == "forged") ? serving : (JsonElement?)null;
            }, RegistryFixture.Patience, $"every live replica reporting the forged generation {forged.Generation}");
        }

        // Every replica still serves v2 at the Registry's generation, and the record is unchanged.
        var after = await system.WaitServingAsync(dataset, 2);
        Assert.Equal(generation, after.GetProperty("generation").GetInt64());
        Assert.All(after.GetProperty("replicas").EnumerateArray().Where(r => r.GetProperty("live").GetBoolean()), r =>
        {
            Assert.Equal(2, r.GetProperty("version").GetInt32());
            Assert.Equal(generation, r.GetProperty("generation").GetInt64());
        });
        foreach (var predictor in system.Predictors)
        {
            Assert.Equal("2", await AvailableVersionAsync(predictor, dataset));
        }

        var audit = await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/audit");
        Assert.Contains(audit!, a => a.GetProperty("action").GetString() == "replica-refused" && a.GetProperty("details").GetProperty("kind").GetString() == "forged");
        Assert.DoesNotContain(audit!, a => a.GetProperty("action").GetString() == "serving-confirmed" && a.GetProperty("details").ToString().Contains("1000", StringComparison.Ordinal));

        // A real rollback afterwards takes effect at the Registry's next generation: the forged 1000s blocked nothing.
        await bus.Publish(CtmSystem.SignedByOperator(new RequestRollback
        {
            RequestId = Guid.NewGuid(), Dataset = dataset, TargetVersion = 1, Reason = "after the forgery", Operator = "alice", CorrelationId = Guid.NewGuid(),
        }));
        var rolledBack = await system.EventuallyAsync(async () =>
        {
            var serving = await system.WaitServingAsync(dataset, 1);
            return serving.GetProperty("replicas").EnumerateArray().Where(r => r.GetProperty("live").GetBoolean()).All(r => r.GetProperty("version").GetInt32() == 1) ? serving : (JsonElement?)null;
        }, RegistryFixture.Patience, "v1 served by every live replica after the real rollback");
        Assert.Equal(generation + 1, rolledBack!.Value.GetProperty("generation").GetInt64());
        foreach (var predictor in system.Predictors)
        {
            Assert.Equal("1", await AvailableVersionAsync(predictor, dataset));
        }
    }

    [Fact]
    public async Task ForgedRollback_ChangesNothing_TheSameRequestSignedTakesEffect()
    {
        var (dataset, generation) = await ServeTwoVersionsAsync("forged-rollback");
        var bus = await system.BusAsync();
        using var registry = system.Client("Registry");
        RequestRollback Request(string @operator) => new()
        {
            RequestId = Guid.NewGuid(), Dataset = dataset, TargetVersion = 1, Reason = "forged", Operator = @operator, CorrelationId = Guid.NewGuid(),
        };
        using var foreignKey = NewKey();
        var unsigned = Request("mallory");
        var foreign = Request("mallory") is var f ? f with { Signature = foreignKey.Sign(SignedPayload.Rollback(f)) } : null!;
        // Signed by the operator key, then the operator's name changed: the signature no longer covers the message.
        var tampered = CtmSystem.SignedByOperator(Request("mallory")) with { Operator = "alice" };
        foreach (var forged in new[] { unsigned, foreign, tampered })
        {
            await bus.Publish(forged);
        }

        var refusals = await system.EventuallyAsync(async () =>
        {
            var audit = await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/audit");
            var refused = audit!.Where(a => a.GetProperty("action").GetString() == "rollback-refused").ToList();
            return refused.Count >= 3 ? refused : null;
        }, RegistryFixture.Patience, "three refused rollbacks in the audit log");
        Assert.All(refusals, r => Assert.Equal("bus (unauthenticated)", r.GetProperty("actor").GetString()));
        Assert.Equal(
            new[] { unsigned.RequestId, foreign.RequestId, tampered.RequestId }.Order(),
            refusals.Select(r => r.GetProperty("details").GetProperty("requestId").GetGuid()).Order());

        var serving = await system.WaitServingAsync(dataset, 2);
        Assert.Equal(generation, serving.GetProperty("generation").GetInt64());
        var rollbacks = await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/rollbacks");
        Assert.Empty(rollbacks!);
        var versions = await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/versions");
        Assert.All(versions!, v => Assert.False(v.GetProperty("tainted").GetBoolean()));

        // The refusal did not use up the request id: the same request, signed by the operator, is applied.
        await bus.Publish(CtmSystem.SignedByOperator(unsigned));
        serving = await system.WaitServingAsync(dataset, 1);
        Assert.Equal(generation + 1, serving.GetProperty("generation").GetInt64());
        rollbacks = await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/rollbacks");
        Assert.Equal("mallory", Assert.Single(rollbacks!).GetProperty("outcome").GetProperty("operator").GetString());
    }

    private async Task<(string Dataset, long Generation)> ServeTwoVersionsAsync(string prefix)
    {
        var dataset = prefix + "-" + Guid.NewGuid().ToString("N")[..6];
        var bus = await system.BusAsync();
        var early = DateTimeOffset.UtcNow.AddMinutes(-5);
        await bus.Publish(TestModels.Trained(dataset, system.Artifacts.Add(TestModels.Linear(1)), [Guid.NewGuid()], null, 0.80, early));
        await system.WaitServingAsync(dataset, 1);
        await bus.Publish(TestModels.Trained(dataset, system.Artifacts.Add(TestModels.Linear(2)), [Guid.NewGuid()], 1, 0.81, early));
        var serving = await system.EventuallyAsync(async () =>
        {
            var s = await system.WaitServingAsync(dataset, 2);
            return s.GetProperty("replicas").EnumerateArray().Where(r => r.GetProperty("live").GetBoolean()).All(r => r.GetProperty("version").GetInt32() == 2) ? s : (JsonElement?)null;
        }, RegistryFixture.Patience, "v2 served by every live replica");
        return (dataset, serving!.Value.GetProperty("generation").GetInt64());
    }

    /// <summary>The version a Predictor replica says it serves (TF Serving's model status, <c>AVAILABLE</c>).</summary>
    private static async Task<string?> AvailableVersionAsync(ServiceProcess predictor, string dataset)
    {
        using var client = TestKeys.Authenticate(new HttpClient { BaseAddress = predictor.BaseUrl, Timeout = TimeSpan.FromSeconds(30) });
        var status = await client.GetFromJsonAsync<JsonElement>($"v1/models/{dataset}");
        return status.GetProperty("model_version_status").EnumerateArray().Where(v => v.GetProperty("state").GetString() == "AVAILABLE")
            .Select(v => v.GetProperty("version").GetString()).SingleOrDefault();
    }

    private static DecisionSigner NewKey()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return DecisionSigner.FromPem(key.ExportPkcs8PrivateKeyPem(), "foreign key");
    }
}
