using System.Security.Cryptography;
using Ctm.Contracts;
using Ctm.ServiceDefaults.Signing;

namespace Ctm.ServiceDefaults.Tests;

public sealed class SigningTests : IDisposable
{
    private const string Sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    private readonly DecisionSigner _registry = NewSigner();
    private readonly DecisionVerifier _verifier;

    public SigningTests() => _verifier = DecisionVerifier.FromPem(_registry.PublicKeyPem(), "test");

    public void Dispose()
    {
        _registry.Dispose();
        _verifier.Dispose();
    }

    private static ModelPromoted Promotion => new()
    {
        Dataset = "churn", Version = 7, CorrelationId = Guid.Parse("5a1d5c1e-0000-4000-8000-000000000001"), Generation = 12,
        ArtifactLocation = "http://registry/v1/datasets/churn/versions/7/artifact", ArtifactSha256 = Sha, Reason = "trained", PromotedAt = DateTimeOffset.UnixEpoch,
        InputMapping = new Dictionary<string, string> { ["x"] = "tenure,monthly_fee", ["plan_in"] = "plan" },
    };

    [Fact]
    public void Verify_SignedPromotion_IsAccepted()
    {
        var signed = Promotion with { Signature = _registry.Sign(SignedPayload.Promotion(Promotion)) };
        Assert.True(_verifier.Verify(SignedPayload.Promotion(signed), signed.Signature));

        // Fields outside the decision may differ (the hash is checked on download; the reason is for people).
        Assert.True(_verifier.Verify(SignedPayload.Promotion(signed with { Reason = "manual", ArtifactSha256 = Sha.ToUpperInvariant() }), signed.Signature));
    }

    [Fact]
    public void Verify_TamperedPromotion_IsRefused()
    {
        var signature = _registry.Sign(SignedPayload.Promotion(Promotion));
        ModelPromoted[] tampered =
        [
            Promotion with { Version = 6 },
            Promotion with { Generation = 1000 },
            Promotion with { ArtifactSha256 = "0" + Sha[1..] },
            Promotion with { Dataset = "churn2" },
            Promotion with { InputMapping = new Dictionary<string, string> { ["x"] = "monthly_fee,tenure", ["plan_in"] = "plan" } },
            Promotion with { InputMapping = null },
        ];
        Assert.All(tampered, t => Assert.False(_verifier.Verify(SignedPayload.Promotion(t), signature)));
    }

    [Fact]
    public void Verify_MissingMalformedOrForeignSignature_IsRefused()
    {
        var payload = SignedPayload.Promotion(Promotion);
        using var foreign = NewSigner();
        Assert.False(_verifier.Verify(payload, null));
        Assert.False(_verifier.Verify(payload, ""));
        Assert.False(_verifier.Verify(payload, "not base64!"));
        Assert.False(_verifier.Verify(payload, Convert.ToBase64String(new byte[64])));
        Assert.False(_verifier.Verify(payload, foreign.Sign(payload)));
    }

    [Fact]
    public void Verify_RollbackSignature_CoversEveryField()
    {
        var request = new RequestRollback
        {
            RequestId = Guid.Parse("5a1d5c1e-0000-4000-8000-000000000002"), Dataset = "churn", CorruptBatchIds = [Guid.Parse("5a1d5c1e-0000-4000-8000-000000000003")],
            IngestedFrom = DateTimeOffset.UnixEpoch, Upstream = "sensor-b", Reason = "bad rows", Operator = "alice", CorrelationId = Guid.Parse("5a1d5c1e-0000-4000-8000-000000000004"),
        };
        var signature = _registry.Sign(SignedPayload.Rollback(request));
        Assert.True(_verifier.Verify(SignedPayload.Rollback(request), signature));
        RequestRollback[] tampered =
        [
            request with { Operator = "mallory" },
            request with { TargetVersion = 1 },
            request with { Force = true },
            request with { Retrain = true },
            request with { RequestId = Guid.NewGuid() },
            request with { Upstream = null },
            request with { IngestedTo = DateTimeOffset.UnixEpoch.AddDays(1) },
            request with { CorruptBatchIds = [] },
        ];
        Assert.All(tampered, t => Assert.False(_verifier.Verify(SignedPayload.Rollback(t), signature)));
    }

    [Fact]
    public void Verify_SignatureOfOneKindOfMessage_DoesNotVerifyAnother()
    {
        var rollback = new RequestRollback { RequestId = Guid.NewGuid(), Dataset = "churn", Reason = "r", Operator = "o", CorrelationId = Guid.NewGuid() };
        Assert.False(_verifier.Verify(SignedPayload.Promotion(Promotion), _registry.Sign(SignedPayload.Rollback(rollback))));
    }

    [Fact]
    public void FromPem_BadKeys_NameTheSetting()
    {
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var wrongCurve = Assert.Throws<ArgumentException>(() => DecisionSigner.FromPem(p384.ExportPkcs8PrivateKeyPem(), "Signing:PrivateKey"));
        Assert.Contains("Signing:PrivateKey", wrongCurve.Message, StringComparison.Ordinal);
        Assert.Contains("P-256", wrongCurve.Message, StringComparison.Ordinal);

        var publicOnly = Assert.Throws<ArgumentException>(() => DecisionSigner.FromPem(_registry.PublicKeyPem(), "Signing:PrivateKey"));
        Assert.Contains("Signing:PrivateKey", publicOnly.Message, StringComparison.Ordinal);

        var garbage = Assert.Throws<ArgumentException>(() => DecisionVerifier.FromPem("hello", "Signing:PublicKey"));
        Assert.Contains("Signing:PublicKey", garbage.Message, StringComparison.Ordinal);

        var both = Assert.Throws<InvalidOperationException>(() => SigningKeys.ReadPem("pem", "keys/registry.pub.pem", "Signing:PublicKeyPem", "Signing:PublicKeyPath"));
        Assert.Contains("Signing:PublicKeyPath", both.Message, StringComparison.Ordinal);
    }

    private static DecisionSigner NewSigner()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return DecisionSigner.FromPem(key.ExportPkcs8PrivateKeyPem(), "test");
    }
}
