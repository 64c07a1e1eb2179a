using Ctm.Contracts;
using Ctm.Ml;
using Ctm.Ml.Engine;
using Ctm.ServiceDefaults.Signing;

namespace Ctm.Predictor.Fast.Tests;

/// <summary>
/// A Predictor replica in this process (it keeps no database), the bus being MassTransit's test harness. The Registry
/// it asks at start-up has nothing serving yet; models arrive as signed <see cref="ModelPromoted"/> messages whose
/// artifacts are served over loopback, as the Registry serves them.
/// </summary>
public sealed class PredictorService() : ServiceFactory<Program>("predictor"), IAsyncLifetime
{
    private readonly ArtifactHost _registry = CreateRegistry();

    /// <summary>The Registry's promotion key; the replica verifies with its public half.</summary>
    public DecisionSigner RegistryKey { get; } = TestSigning.NewKey();

    /// <summary>A small churn model (tenure, plan, monthly_fee → churned yes/no) in ONNX, trained once per fixture.</summary>
    public static byte[] ChurnModel { get; } = TrainChurn();

    protected override bool HasDatabase => false;

    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Signing:PublicKeyPem"] = RegistryKey.PublicKeyPem(),
        ["Services:Registry"] = _registry.BaseUrl.ToString(),
    };

    /// <summary>The Registry's promotion of <paramref name="model"/> as <paramref name="dataset"/> v<paramref name="version"/>, signed unless <paramref name="signer"/> says otherwise.</summary>
    public ModelPromoted Promotion(string dataset, int version, long generation, byte[] model, DecisionSigner? signer = null)
    {
        var (url, sha) = _registry.Add(model);
        var promoted = new ModelPromoted
        {
            Dataset = dataset, Version = version, Generation = generation, CorrelationId = Guid.NewGuid(), ArtifactLocation = url, ArtifactSha256 = sha,
            Reason = "trained", PromotedAt = DateTimeOffset.UtcNow,
        };
        return promoted with { Signature = (signer ?? RegistryKey).Sign(SignedPayload.Promotion(promoted)) };
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _registry.Dispose();
        RegistryKey.Dispose();
    }

    private static ArtifactHost CreateRegistry()
    {
        var host = new ArtifactHost();
        // GET v1/serving and v1/serving/pending: a fresh system, nothing serving and nothing pending.
        host.AddNamed("serving", "[]"u8.ToArray());
        host.AddNamed("pending", "[]"u8.ToArray());
        return host;
    }

    private static byte[] TrainChurn()
    {
        const int n = 400;
        var random = new Random(11);
        var plans = new[] { "basic", "pro", "team" };
        var tenure = new double[n];
        var fee = new double[n];
        var plan = new string?[n];
        var label = new string?[n];
        for (var i = 0; i < n; i++)
        {
            tenure[i] = random.Next(1, 60);
            fee[i] = 10 + (random.NextDouble() * 90);
            plan[i] = plans[random.Next(plans.Length)];
            var risk = (plan[i] == "basic" ? 0.8 : 0) + (fee[i] > 70 ? 0.7 : 0) - (tenure[i] * 0.03);
            label[i] = risk + ((random.NextDouble() - 0.5) * 0.6) > 0.3 ? "yes" : "no";
        }

        var data = TabularDataset.CreateBuilder().AddNumeric("tenure", tenure).AddCategorical("plan", plan).AddNumeric("monthly_fee", fee)
            .WithLabel("churned", label).Build();
        return new ManagedTrainingEngine().Train(data, new TrainingOptions { Task = ModelTask.BinaryClassification, HiddenLayers = [8], Epochs = 5, Seed = 3 }).ToOnnx();
    }
}
