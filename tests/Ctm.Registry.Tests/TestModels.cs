using Ctm.Contracts;
using Ctm.Onnx;
using Ctm.Onnx.Model;

namespace Ctm.Registry.Tests;

public static class TestModels
{
    /// <summary>A valid ONNX regression model, y = x * <paramref name="scale"/> (distinct bytes per scale).</summary>
    public static byte[] Linear(float scale)
    {
        var g = new OnnxGraphBuilder("linear");
        g.AddInput("x", TensorElementType.Float, [null, 1], ["N"]);
        g.AddInitializer("w", [scale], [1, 1]);
        g.AddNode("MatMul", ["x", "w"], ["prediction"]);
        g.AddOutput("prediction", TensorElementType.Float, [null, 1], ["N"]);
        return g.Build(new OnnxModelInfo { Opsets = { [""] = 17 }, ProducerName = "test-exporter" });
    }

    /// <summary>A model trained "elsewhere" whose inputs are not named after the churn features: a numeric matrix and a string column.</summary>
    public static byte[] Renamed(string numericName = "numbers", TensorElementType categoricalType = TensorElementType.String)
    {
        var g = new OnnxGraphBuilder("external");
        g.AddInput(numericName, TensorElementType.Float, [null, 3], ["N", null]);
        g.AddInput("plan_code", categoricalType, [null, 1], ["N", null]);
        g.AddInitializer("w", [0.1f, -0.2f, 0.3f], [3, 1]);
        g.AddNode("MatMul", [numericName, "w"], ["prediction"]);
        g.AddOutput("prediction", TensorElementType.Float, [null, 1], ["N"]);
        return g.Build(new OnnxModelInfo { Opsets = { [""] = 17 }, ProducerName = "sklearn-like" });
    }

    public static ModelTrained Trained(
        string dataset, (string Url, string Sha256) artifact, Guid[] batches, int? parent, double accuracy, DateTimeOffset startedAt, Guid? runId = null) => new()
    {
        RunId = runId ?? Guid.NewGuid(),
        Dataset = dataset,
        CorrelationId = Guid.NewGuid(),
        BatchIds = batches,
        ParentVersion = parent,
        SchemaVersion = 1,
        Task = TaskKind.Binary,
        ArtifactLocation = artifact.Url,
        ArtifactSha256 = artifact.Sha256,
        ArtifactSize = 1,
        Metrics = new Dictionary<string, double> { ["accuracy"] = accuracy },
        Parameters = new Dictionary<string, string> { ["epochs"] = "1" },
        Engine = "test",
        Device = "cpu",
        Seed = 7,
        CodeVersion = "test",
        StartedAt = startedAt,
        FinishedAt = startedAt.AddSeconds(1),
        SamplesPerSecond = 1000,
    };
}
