using Ctm.Onnx.Model;

namespace Ctm.Onnx.Tests;

/// <summary>Small models built with our own writer, shared by the tests.</summary>
internal static class TestModels
{
    /// <summary>y = x · W + b, x: [N, 3] float, y: [N, 2].</summary>
    public static byte[] Linear(Dictionary<string, string>? metadata = null)
    {
        var g = new OnnxGraphBuilder("linear") { DocString = "graph doc" };
        g.AddInput("x", TensorElementType.Float, [null, 3], ["N"]);
        g.AddInitializer("W", new float[] { 1, 2, 3, 4, 5, 6 }, [3, 2]);
        g.AddInitializer("b", new float[] { 0.5f, -0.5f }, [2]);
        g.AddNode("MatMul", ["x", "W"], ["xw"]);
        g.AddNode("Add", ["xw", "b"], ["y"]);
        g.AddOutput("y", TensorElementType.Float, [null, 2], ["N"]);
        return g.Build(new OnnxModelInfo
        {
            Opsets = { [""] = 17 },
            ProducerName = "ctm-tests",
            ProducerVersion = "1.0",
            Domain = "ai.ctm",
            ModelVersion = 7,
            Metadata = metadata ?? new Dictionary<string, string>(StringComparer.Ordinal),
            DocString = "linear test model",
        });
    }

    /// <summary>Expected output of <see cref="Linear"/> for one row.</summary>
    public static float[] LinearExpected(float x0, float x1, float x2) =>
        [x0 * 1 + x1 * 3 + x2 * 5 + 0.5f, x0 * 2 + x1 * 4 + x2 * 6 - 0.5f];

    /// <summary>y = sigmoid(x), x: [N, 1] float.</summary>
    public static byte[] Sigmoid()
    {
        var g = new OnnxGraphBuilder("sigmoid");
        g.AddInput("x", TensorElementType.Float, [null, 1]);
        g.AddNode("Sigmoid", ["x"], ["y"]);
        g.AddOutput("y", TensorElementType.Float, [null, 1]);
        return g.Build();
    }

    /// <summary>ai.onnx.ml LabelEncoder: string category → int64 code, unknown → -1.</summary>
    public static byte[] LabelEncoder()
    {
        var g = new OnnxGraphBuilder("label-encoder");
        g.AddInput("category", TensorElementType.String, [null]);
        g.AddNode(
            "LabelEncoder",
            ["category"],
            ["code"],
            domain: "ai.onnx.ml",
            attributes:
            [
                OnnxAttribute.Strings("keys_strings", "red", "green", "blue"),
                OnnxAttribute.Ints("values_int64s", 0, 1, 2),
                OnnxAttribute.Int("default_int64", -1),
            ]);
        g.AddOutput("code", TensorElementType.Int64, [null]);
        return g.Build(new OnnxModelInfo { Opsets = { [""] = 17, ["ai.onnx.ml"] = 3 } });
    }

    /// <summary>Embedding lookup: Gather(table [4, 2], ids [N]) → [N, 2].</summary>
    public static byte[] Gather()
    {
        var g = new OnnxGraphBuilder("gather");
        g.AddInput("ids", TensorElementType.Int64, [null]);
        g.AddInitializer("table", new float[] { 0, 0, 1, 10, 2, 20, 3, 30 }, [4, 2]);
        g.AddNode("Gather", ["table", "ids"], ["emb"], attributes: [OnnxAttribute.Int("axis", 0)]);
        g.AddOutput("emb", TensorElementType.Float, [null, 2]);
        return g.Build();
    }

    /// <summary>One input and output per element type: double·2, int64+1, not(bool), int32 identity, string identity.</summary>
    public static byte[] MultiType()
    {
        var g = new OnnxGraphBuilder("multi-type");
        g.AddInput("d", TensorElementType.Double, [null]);
        g.AddInput("i64", TensorElementType.Int64, [null]);
        g.AddInput("flag", TensorElementType.Bool, [null]);
        g.AddInput("i32", TensorElementType.Int32, [2]);
        g.AddInput("s", TensorElementType.String, [null]);
        g.AddInitializer("two", new double[] { 2 }, []);
        g.AddInitializer("one", new long[] { 1 }, []);
        g.AddNode("Mul", ["d", "two"], ["d_out"]);
        g.AddNode("Add", ["i64", "one"], ["i64_out"]);
        g.AddNode("Not", ["flag"], ["flag_out"]);
        g.AddNode("Identity", ["i32"], ["i32_out"]);
        g.AddNode("Identity", ["s"], ["s_out"]);
        g.AddOutput("d_out", TensorElementType.Double, [null]);
        g.AddOutput("i64_out", TensorElementType.Int64, [null]);
        g.AddOutput("flag_out", TensorElementType.Bool, [null]);
        g.AddOutput("i32_out", TensorElementType.Int32, [2]);
        g.AddOutput("s_out", TensorElementType.String, [null]);
        return g.Build();
    }

    /// <summary>A classifier head like sklearn-onnx exports: a label tensor and a ZipMap (sequence of maps) output.</summary>
    public static byte[] ZipMapClassifier()
    {
        var g = new OnnxGraphBuilder("zipmap");
        g.AddInput("p", TensorElementType.Float, [null, 2]);
        g.AddNode("ArgMax", ["p"], ["label"], attributes: [OnnxAttribute.Int("axis", 1), OnnxAttribute.Int("keepdims", 0)]);
        g.AddNode("ZipMap", ["p"], ["probabilities"], domain: "ai.onnx.ml", attributes: [OnnxAttribute.Ints("classlabels_int64s", 0, 1)]);
        g.AddOutput("label", TensorElementType.Int64, [null]);
        g.AddSequenceOfMapsOutput("probabilities", TensorElementType.Int64, TensorElementType.Float);
        return g.Build(new OnnxModelInfo { Opsets = { [""] = 17, ["ai.onnx.ml"] = 3 } });
    }

    /// <summary>Attribute kinds: Constant (tensor), Transpose (ints), LeakyRelu (float).</summary>
    public static byte[] Attributes()
    {
        var g = new OnnxGraphBuilder("attributes");
        g.AddInput("x", TensorElementType.Float, [2, 3]);
        g.AddNode("Constant", [], ["c"], attributes: [OnnxAttribute.Tensor("value", OrtTensor.FromFloat([10, 20], 2, 1))]);
        g.AddNode("Transpose", ["x"], ["xt"], attributes: [OnnxAttribute.Ints("perm", 1, 0)]);
        g.AddNode("LeakyRelu", ["xt"], ["lr"], attributes: [OnnxAttribute.Float("alpha", 0.5f)]);
        g.AddNode("Transpose", ["lr"], ["back"], attributes: [OnnxAttribute.Ints("perm", 1, 0)]);
        g.AddNode("Add", ["back", "c"], ["y"]);
        g.AddOutput("y", TensorElementType.Float, [2, 3]);
        return g.Build();
    }

    /// <summary>z = a + b with fully dynamic 1-D inputs: broadcasting errors only show up inside ORT.</summary>
    public static byte[] DynamicAdd()
    {
        var g = new OnnxGraphBuilder("dynamic-add");
        g.AddInput("a", TensorElementType.Float, [null]);
        g.AddInput("b", TensorElementType.Float, [null]);
        g.AddNode("Add", ["a", "b"], ["z"]);
        g.AddOutput("z", TensorElementType.Float, [null]);
        return g.Build();
    }
}
