using Ctm.Onnx.Model;

namespace Ctm.Onnx.Tests;

public sealed class OnnxModelWriterTests
{
    [Fact]
    public void Reader_BuiltModel_ReadsBackModelFacts()
    {
        var summary = OnnxModelReader.Read(TestModels.Linear(new Dictionary<string, string> { ["ctm.task"] = "regression" }));

        Assert.Equal(8, summary.IrVersion);
        Assert.Equal("ctm-tests", summary.ProducerName);
        Assert.Equal("linear", summary.GraphName);
        Assert.Equal(17, summary.Opsets[""]);
        Assert.Equal("regression", summary.Metadata["ctm.task"]);
        Assert.Equal(["x"], summary.Inputs);
        Assert.Equal(["y"], summary.Outputs);
        Assert.Equal(["W", "b"], summary.Initializers);
    }

    [Fact]
    public void Reader_MlOpsets_AreListed()
    {
        var summary = OnnxModelReader.Read(TestModels.LabelEncoder());

        Assert.Equal(3, summary.Opsets["ai.onnx.ml"]);
        Assert.Equal(17, summary.Opsets[""]);
    }

    [Fact]
    public void Reader_Garbage_ThrowsInvalidData()
    {
        Assert.Throws<InvalidDataException>(() => OnnxModelReader.Read([0x0A, 0xFF, 0x01]));
    }

    [Fact]
    public void Builder_DuplicateValueName_Throws()
    {
        var g = new OnnxGraphBuilder("dup");
        g.AddInput("x", TensorElementType.Float, [1]);

        var ex = Assert.Throws<ArgumentException>(() => g.AddInitializer("x", new float[] { 1 }, [1]));
        Assert.Contains("'x'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Builder_IfWithGraphAttributes_RunsTheChosenBranch()
    {
        var thenBranch = new OnnxGraphBuilder("then");
        thenBranch.AddNode("Constant", [], ["r_then"], attributes: [OnnxAttribute.Tensor("value", OrtTensor.FromFloat([1], 1))]);
        thenBranch.AddOutput("r_then", TensorElementType.Float, [1]);
        var elseBranch = new OnnxGraphBuilder("else");
        elseBranch.AddNode("Constant", [], ["r_else"], attributes: [OnnxAttribute.Tensor("value", OrtTensor.FromFloat([-1], 1))]);
        elseBranch.AddOutput("r_else", TensorElementType.Float, [1]);
        var g = new OnnxGraphBuilder("if");
        g.AddInput("cond", TensorElementType.Bool, []);
        g.AddNode("If", ["cond"], ["r"], attributes: [OnnxAttribute.Graph("then_branch", thenBranch), OnnxAttribute.Graph("else_branch", elseBranch)]);
        g.AddOutput("r", TensorElementType.Float, [1]);

        using var session = OnnxSession.Create(g.Build());

        Assert.Equal([1f], session.Run(new Dictionary<string, OrtTensor> { ["cond"] = OrtTensor.FromBool([true]) })[0].AsFloat());
        Assert.Equal([-1f], session.Run(new Dictionary<string, OrtTensor> { ["cond"] = OrtTensor.FromBool([false]) })[0].AsFloat());
    }

    [Fact]
    public void Builder_InitializersOfEveryType_LoadWithTheirValues()
    {
        var g = new OnnxGraphBuilder("consts");
        g.AddInput("unused", TensorElementType.Float, [1]);
        g.AddInitializer("f", new float[] { 1.5f, -2 }, [2]);
        g.AddInitializer("d", new double[] { Math.PI }, [1]);
        g.AddInitializer("l", new long[] { long.MinValue }, [1]);
        g.AddInitializer("i", new int[] { int.MinValue, 3 }, [1, 2]);
        g.AddInitializer("b", new bool[] { true, false }, [2]);
        g.AddInitializer("s", new string[] { "a", "ü" }, [2]);
        foreach (var name in new[] { "f", "d", "l", "i", "b", "s" })
        {
            g.AddNode("Identity", [name], [name + "_out"]);
        }

        g.AddOutput("f_out", TensorElementType.Float, [2]);
        g.AddOutput("d_out", TensorElementType.Double, [1]);
        g.AddOutput("l_out", TensorElementType.Int64, [1]);
        g.AddOutput("i_out", TensorElementType.Int32, [1, 2]);
        g.AddOutput("b_out", TensorElementType.Bool, [2]);
        g.AddOutput("s_out", TensorElementType.String, [2]);

        using var session = OnnxSession.Create(g.Build(), new OnnxSessionOptions { OptimizationLevel = GraphOptimizationLevel.None });
        var outputs = session.Run(new Dictionary<string, OrtTensor> { ["unused"] = OrtTensor.FromFloat([0], 1) });

        Assert.Equal([1.5f, -2], outputs[0].AsFloat());
        Assert.Equal([Math.PI], outputs[1].AsDouble());
        Assert.Equal([long.MinValue], outputs[2].AsInt64());
        Assert.Equal([int.MinValue, 3], outputs[3].AsInt32());
        Assert.Equal([1L, 2], outputs[3].Shape);
        Assert.Equal([true, false], outputs[4].AsBool());
        Assert.Equal(["a", "ü"], outputs[5].AsString());
    }
}
