using Ctm.Contracts;
using Ctm.Registry.Tests;
using Ctm.ServiceDefaults.Signing;

namespace Ctm.Registry.Fast.Tests;

/// <summary>
/// The Registry in this process on a database of its own, the bus being MassTransit's test harness; artifacts are
/// served over loopback as the Trainer serves them, so a test publishes <see cref="ModelTrained"/> for lineages it chooses.
/// </summary>
public sealed class RegistryService() : ServiceFactory<Program>("registry"), IAsyncLifetime
{
    private readonly ArtifactHost _artifacts = new();

    /// <summary>The Registry's promotion key (its public half is what the Predictors verify with).</summary>
    public DecisionSigner RegistryKey { get; } = TestSigning.NewKey();

    /// <summary>The operators' key: a <see cref="RequestRollback"/> on the bus acts only when signed with it.</summary>
    public DecisionSigner OperatorKey { get; } = TestSigning.NewKey();

    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Signing:PrivateKeyPem"] = RegistryKey.PrivateKeyPem(),
        ["Signing:OperatorPublicKeyPem"] = OperatorKey.PublicKeyPem(),
        ["Services:Registry"] = "http://registry.test/",
    };

    /// <summary>What the Trainer publishes after a run of <paramref name="dataset"/> on <paramref name="batches"/>; a distinct model per <paramref name="scale"/>.</summary>
    public ModelTrained Trained(string dataset, float scale, double accuracy, Guid[] batches, int? parent = null) =>
        TestModels.Trained(dataset, _artifacts.Add(TestModels.Linear(scale)), batches, parent, accuracy, DateTimeOffset.UtcNow);

    /// <summary>How many times an artifact was fetched: each attempt at a registration fetches it once.</summary>
    public int ArtifactFetches => _artifacts.Requests;

    public RequestRollback SignedByOperator(RequestRollback m) => m with { Signature = OperatorKey.Sign(SignedPayload.Rollback(m)) };

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _artifacts.Dispose();
        RegistryKey.Dispose();
        OperatorKey.Dispose();
    }
}
