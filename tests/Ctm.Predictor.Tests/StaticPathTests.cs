using System.Text.Json;
using Ctm.Onnx;
using Ctm.Onnx.Model;
using Ctm.Predictor.Inference;

namespace Ctm.Predictor.Tests;

/// <summary>Finding static domains in a graph, and the lookup table answering as ONNX Runtime does (no services needed).</summary>
public sealed class StaticPathTests
{
    [Fact]
    public void Analyze_LookedUpStringFloatAndBoolInputs_TableEqualsOrtForKnownUnseenAndMissingValues()
    {
        var bytes = Model(bucketized: true);
        using var session = OnnxSession.Create(bytes);
        var signature = ModelSignature.From(session);
        StaticDomain.Analyze(signature, Ctm.Onnx.Model.OnnxGraphReader.ReadNodes(bytes));
        Assert.Equal(3 * 3 * 2, signature.StaticCombinations()); // (red, green, other) × (0.5, 1.5, other) × (false, true)

        var executor = new BatchExecutor(session, signature);
        var table = StaticTable.Build(signature, executor, 18);
        string[] instances =
        [
            """{"color": "red", "bucket": 0.5, "flag": false}""",
            """{"color": "green", "bucket": 1.5, "flag": true}""",
            """{"color": "blue", "bucket": 0.7, "flag": true}""",
            """{"color": null, "bucket": null, "flag": false}""",
            """{"color": 7, "bucket": "1.5", "flag": true}""",
        ];
        var block = new RowBlock(signature, instances.Length);
        for (var i = 0; i < instances.Length; i++)
        {
            block.AddInstance(JsonDocument.Parse(instances[i]).RootElement, i);
        }

        var item = new WorkItem(block, null);
        executor.Execute([item], new BatchScratch());
        for (var r = 0; r < instances.Length; r++)
        {
            Assert.Equal(((float[])item.Results[r].Values[0])[0], ((float[])table.Lookup(block, r).Values[0])[0]);
        }

        // red=0, 0.5→0, false → 0; green=1, 1.5→1 (×3), true (×9) → 13; unseen color 2, unseen bucket 2 (×3), true → 17.
        Assert.Equal([0f, 13f, 17f], new[] { 0, 1, 2 }.Select(r => ((float[])table.Lookup(block, r).Values[0])[0]));
    }

    [Fact]
    public void Analyze_FreeFloatInput_IsDynamic()
    {
        var bytes = Model(bucketized: false);
        using var session = OnnxSession.Create(bytes);
        var signature = ModelSignature.From(session);
        StaticDomain.Analyze(signature, Ctm.Onnx.Model.OnnxGraphReader.ReadNodes(bytes));
        Assert.Null(signature.StaticCombinations());
        Assert.NotNull(signature.Inputs.Single(i => i.Name == "color").Domain);
        Assert.Null(signature.Inputs.Single(i => i.Name == "bucket").Domain);
    }

    [Fact]
    public void HotKeyCache_MoreKeysThanCapacity_StaysBoundedAndCountsHitsAndMisses()
    {
        var cache = new HotKeyCache(100);
        var prediction = new Prediction(null!, []);
        for (var i = 0; i < 1000; i++)
        {
            if (!cache.TryGet($"k{i % 300}", out _))
            {
                cache.Add($"k{i % 300}", prediction);
            }
        }

        Assert.True(cache.Count <= 100, $"{cache.Count} entries");
        Assert.Equal(1000, cache.Hits + cache.Misses);
        Assert.True(cache.TryGet("k99", out _)); // the most recent key stays
    }

    /// <summary>y = color index + 3 × bucket index + 9 × flag, where the indexes come from LabelEncoders (or a free float when not bucketized).</summary>
    private static byte[] Model(bool bucketized)
    {
        var g = new OnnxGraphBuilder("static_test");
        g.AddInput("color", TensorElementType.String, [null, 1], ["N", null]);
        g.AddInput("bucket", TensorElementType.Float, [null, 1], ["N", null]);
        g.AddInput("flag", TensorElementType.Bool, [null, 1], ["N", null]);
        g.AddNode("LabelEncoder", ["color"], ["color_index"], domain: "ai.onnx.ml", attributes:
        [
            OnnxAttribute.Strings("keys_strings", ["red", "green"]),
            OnnxAttribute.Ints("values_int64s", [0, 1]),
            OnnxAttribute.Int("default_int64", 2),
        ]);
        g.AddNode("Cast", ["color_index"], ["color_value"], attributes: [OnnxAttribute.Int("to", 1)]);
        if (bucketized)
        {
            g.AddNode("LabelEncoder", ["bucket"], ["bucket_index"], domain: "ai.onnx.ml", attributes:
            [
                OnnxAttribute.Floats("keys_floats", [0.5f, 1.5f]),
                OnnxAttribute.Ints("values_int64s", [0, 1]),
                OnnxAttribute.Int("default_int64", 2),
            ]);
            g.AddNode("Cast", ["bucket_index"], ["bucket_value"], attributes: [OnnxAttribute.Int("to", 1)]);
        }
        else
        {
            g.AddInitializer("zero", [0f], [1]);
            g.AddNode("Add", ["bucket", "zero"], ["bucket_value"]);
        }

        g.AddNode("Cast", ["flag"], ["flag_value"], attributes: [OnnxAttribute.Int("to", 1)]);
        g.AddInitializer("three", [3f], [1]);
        g.AddInitializer("nine", [9f], [1]);
        g.AddNode("Mul", ["bucket_value", "three"], ["bucket_term"]);
        g.AddNode("Mul", ["flag_value", "nine"], ["flag_term"]);
        g.AddNode("Sum", ["color_value", "bucket_term", "flag_term"], ["y"]);
        g.AddOutput("y", TensorElementType.Float, [null, 1], ["N", null]);
        return g.Build(new OnnxModelInfo { Opsets = { [""] = 17, ["ai.onnx.ml"] = 3 } });
    }
}
