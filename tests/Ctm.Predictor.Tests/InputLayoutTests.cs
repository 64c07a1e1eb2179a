using System.Text.Json;
using Ctm.Ml;
using Ctm.Ml.Engine;
using Ctm.Onnx;
using Ctm.Onnx.Model;
using Ctm.Predictor.Apis;
using Ctm.Predictor.Inference;

namespace Ctm.Predictor.Tests;

/// <summary>
/// Ctm's exported models in the packed layout (one input per type, columns named in <c>ctm.inputs</c>) and in the
/// per-feature layout of earlier versions: both take feature-named instances in both protocols and answer alike.
/// </summary>
public sealed class InputLayoutTests
{
    private static readonly string[] Instances =
    [
        """{"tenure": 12, "plan": "pro", "monthly_fee": 49.5, "region": "north"}""",
        """{"tenure": null, "plan": "basic", "monthly_fee": 99, "region": "never-seen"}""",
        """{"tenure": 3, "plan": null, "monthly_fee": 10.25, "region": "south", "key": "row-3"}""",
    ];

    [Fact]
    public void MixedModel_PackedAndPerFeature_SameFeatureNamedInstances_SameAnswers()
    {
        var model = Train(categoricalOnly: false);
        var packed = Serve(model.ToOnnx());
        var perFeature = Serve(model.ToOnnx(new OnnxExportOptions { Layout = OnnxInputLayout.PerFeature }));

        Assert.Equal([OnnxExporter.NumericInput, OnnxExporter.CategoricalInput], packed.Signature.Inputs.Select(i => i.Name));
        Assert.Equal(["tenure", "monthly_fee"], packed.Signature.Inputs[0].Fields!);
        Assert.Equal(["tenure", "plan", "monthly_fee", "region"], perFeature.Signature.Inputs.Select(i => i.Name));

        var a = packed.Predict(TfInstances(packed.Signature));
        var b = perFeature.Predict(TfInstances(perFeature.Signature));
        Assert.Equal(b.Select(p => System.Text.Encoding.UTF8.GetString(p.TfJson)), a.Select(p => System.Text.Encoding.UTF8.GetString(p.TfJson)));
        Assert.Equal(model.Predict(Rows()).Labels, a.Select(p => p.Label));
    }

    [Fact]
    public void PackedModel_OipColumnsOrWholeTensors_SameRowsAsTfInstances()
    {
        var served = Serve(Train(categoricalOnly: false).ToOnnx());
        var expected = served.Predict(TfInstances(served.Signature)).Select(p => System.Text.Encoding.UTF8.GetString(p.TfJson)).ToList();

        var perColumn = Parse("""
            [{"name": "tenure", "datatype": "FP32", "shape": [3], "data": [12, null, 3]},
             {"name": "monthly_fee", "datatype": "FP32", "shape": [3, 1], "data": [[49.5], [99], [10.25]]},
             {"name": "plan", "datatype": "BYTES", "shape": [3], "data": ["pro", "basic", null]},
             {"name": "region", "datatype": "BYTES", "shape": [3], "data": ["north", "never-seen", "south"]}]
            """);
        var whole = Parse("""
            [{"name": "ctm/numeric", "datatype": "FP32", "shape": [3, 2], "data": [12, 49.5, null, 99, 3, 10.25]},
             {"name": "ctm/categorical", "datatype": "BYTES", "shape": [3, 2], "data": ["pro", "north", "basic", "never-seen", null, "south"]}]
            """);

        Assert.Equal(expected, served.Predict(InferenceProtocolApi.Decode(served.Signature, perColumn, 100)).Select(p => System.Text.Encoding.UTF8.GetString(p.TfJson)));
        Assert.Equal(expected, served.Predict(InferenceProtocolApi.Decode(served.Signature, whole, 100)).Select(p => System.Text.Encoding.UTF8.GetString(p.TfJson)));

        var missing = Assert.Throws<PredictionInputException>(() => InferenceProtocolApi.Decode(served.Signature, Parse("""
            [{"name": "tenure", "datatype": "FP32", "shape": [1], "data": [1]},
             {"name": "plan", "datatype": "BYTES", "shape": [1], "data": ["pro"]},
             {"name": "region", "datatype": "BYTES", "shape": [1], "data": ["north"]}]
            """), 100));
        Assert.Contains("missing input 'monthly_fee'", missing.Message, StringComparison.Ordinal);
        var unknown = Assert.Throws<PredictionInputException>(() => InferenceProtocolApi.Decode(served.Signature, Parse("""[{"name": "colour", "datatype": "BYTES", "shape": [1], "data": ["x"]}]"""), 100));
        Assert.Contains("unexpected input 'colour'", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CategoricalOnly_PackedAndPerFeature_BothStatic_TableEqualsOrt()
    {
        var model = Train(categoricalOnly: true);
        foreach (var layout in new[] { OnnxInputLayout.Packed, OnnxInputLayout.PerFeature })
        {
            var bytes = model.ToOnnx(new OnnxExportOptions { Layout = layout });
            var served = Serve(bytes);
            StaticDomain.Analyze(served.Signature, OnnxGraphReader.ReadNodes(bytes));

            // plan and region: 3 values, the empty string (missing) and one out-of-vocabulary value each.
            Assert.Equal(5 * 5, served.Signature.StaticCombinations());
            var table = StaticTable.Build(served.Signature, served.Executor, 25);
            var block = TfInstances(served.Signature);
            var ort = served.Predict(block);
            for (var r = 0; r < block.Count; r++)
            {
                Assert.Equal(System.Text.Encoding.UTF8.GetString(ort[r].TfJson), System.Text.Encoding.UTF8.GetString(table.Lookup(block, r).TfJson));
            }
        }
    }

    private static TrainedModel Train(bool categoricalOnly)
    {
        var random = new Random(5);
        const int n = 400;
        string[] plans = ["basic", "pro", "team"], regions = ["north", "south", "east"];
        var tenure = new double[n];
        var fee = new double[n];
        var plan = new string?[n];
        var region = new string?[n];
        var label = new string?[n];
        for (var i = 0; i < n; i++)
        {
            tenure[i] = random.Next(1, 60);
            fee[i] = 10 + (random.NextDouble() * 90);
            plan[i] = plans[random.Next(plans.Length)];
            region[i] = regions[random.Next(regions.Length)];
            var risk = (plan[i] == "basic" ? 1 : 0) + (region[i] == "south" ? 0.5 : 0) + (categoricalOnly ? 0 : (fee[i] / 100) - (tenure[i] / 60));
            label[i] = risk + (random.NextDouble() * 0.5) > 0.8 ? "yes" : "no";
        }

        var builder = TabularDataset.CreateBuilder();
        if (!categoricalOnly)
        {
            builder.AddNumeric("tenure", tenure);
        }

        builder.AddCategorical("plan", plan);
        if (!categoricalOnly)
        {
            builder.AddNumeric("monthly_fee", fee);
        }

        builder.AddCategorical("region", region);
        return new ManagedTrainingEngine().Train(builder.WithLabel("churned", label).Build(),
            new TrainingOptions { Task = ModelTask.BinaryClassification, HiddenLayers = [8], Epochs = 5, Seed = 3 });
    }

    private static TabularDataset Rows() => TabularDataset.CreateBuilder()
        .AddNumeric("tenure", [12, double.NaN, 3]).AddCategorical("plan", ["pro", "basic", null])
        .AddNumeric("monthly_fee", [49.5, 99, 10.25]).AddCategorical("region", ["north", "never-seen", "south"]).Build();

    private static RowBlock TfInstances(ModelSignature signature)
    {
        var block = new RowBlock(signature, Instances.Length);
        for (var i = 0; i < Instances.Length; i++)
        {
            block.AddInstance(JsonDocument.Parse(Instances[i]).RootElement, i);
        }

        return block;
    }

    private static JsonElement Parse(string json) => JsonDocument.Parse(json).RootElement;

    private static Served Serve(byte[] bytes)
    {
        var session = OnnxSession.Create(bytes);
        var signature = ModelSignature.From(session);
        return new Served(signature, new BatchExecutor(session, signature));
    }

    private sealed record Served(ModelSignature Signature, BatchExecutor Executor)
    {
        public Prediction[] Predict(RowBlock block)
        {
            var item = new WorkItem(block, null);
            Executor.Execute([item], new BatchScratch());
            return item.Results;
        }
    }
}
