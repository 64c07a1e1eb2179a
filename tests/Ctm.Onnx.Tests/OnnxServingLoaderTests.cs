using Ctm.Onnx.Model;

namespace Ctm.Onnx.Tests;

/// <summary>The loader the Registry and the Predictor share: a model loads exactly when it runs on inputs of its declared shapes.</summary>
public sealed class OnnxServingLoaderTests
{
    private static readonly OnnxSessionOptions Options = new() { IntraOpThreads = 1 };

    [Fact]
    public void Load_FixedFirstDimension_WarmsUpAtTheDeclaredSizeAndRuns()
    {
        var g = new OnnxGraphBuilder("fixed");
        g.AddInput("x", TensorElementType.Float, [3]);
        g.AddInitializer("two", new float[] { 2 }, [1]);
        g.AddNode("Mul", ["x", "two"], ["y"]);
        g.AddOutput("y", TensorElementType.Float, [3]);

        using var session = OnnxServingLoader.Load(g.Build(), Options);

        Assert.Equal([3L], OnnxServingLoader.WarmUpInputs(session.Inputs)["x"].Shape);
        var y = session.Run(new Dictionary<string, OrtTensor> { ["x"] = OrtTensor.FromFloat([1, 2, 3], 3) });
        Assert.Equal([2f, 4f, 6f], y[0].AsFloat());
    }

    [Fact]
    public void Load_GemmWithFixedMatrixInput_LoadsAndComputes()
    {
        var g = new OnnxGraphBuilder("gemm");
        g.AddInput("a", TensorElementType.Float, [2, 10]);
        g.AddInitializer("b", Enumerable.Range(0, 40).Select(i => i * 0.1f).ToArray(), [10, 4]);
        g.AddNode("Gemm", ["a", "b"], ["c"]);
        g.AddOutput("c", TensorElementType.Float, [2, 4]);

        using var session = OnnxServingLoader.Load(g.Build(), Options);

        var a = Enumerable.Range(0, 20).Select(i => (float)i).ToArray();
        var c = session.Run(new Dictionary<string, OrtTensor> { ["a"] = OrtTensor.FromFloat(a, 2, 10) })[0];
        Assert.Equal([2L, 4], c.Shape);
        var expected = Enumerable.Range(0, 10).Sum(k => a[10 + k] * ((k * 4) + 3) * 0.1f);
        Assert.Equal(expected, c.AsFloat()[7], 3);
    }

    [Fact]
    public void WarmUpInputs_SymbolicAndUnknownDimensions_AreOne_FixedOnesKept()
    {
        var g = new OnnxGraphBuilder("images");
        g.AddInput("img", TensorElementType.Float, [null, 3, null, 4], ["batch", null, "height", null]);
        g.AddNode("Identity", ["img"], ["out"]);
        g.AddOutput("out", TensorElementType.Float, [null, 3, null, 4], ["batch", null, "height", null]);

        using var session = OnnxServingLoader.Load(g.Build(), Options);

        Assert.Equal([1L, 3, 1, 4], OnnxServingLoader.WarmUpInputs(session.Inputs)["img"].Shape);
    }

    [Fact]
    public void Load_EveryTensorTypeTheProtocolsCarry_WarmsUp()
    {
        TensorElementType[] types =
        [
            TensorElementType.Float, TensorElementType.Double, TensorElementType.Float16, TensorElementType.Int8, TensorElementType.Int16,
            TensorElementType.Int32, TensorElementType.Int64, TensorElementType.UInt8, TensorElementType.UInt16, TensorElementType.UInt32,
            TensorElementType.UInt64, TensorElementType.Bool, TensorElementType.String,
        ];
        var g = new OnnxGraphBuilder("every-type");
        foreach (var t in types)
        {
            g.AddInput($"in_{t}", t, [null, 2], ["N", null]);
            g.AddNode("Identity", [$"in_{t}"], [$"out_{t}"]);
            g.AddOutput($"out_{t}", t, [null, 2], ["N", null]);
        }

        using var session = OnnxServingLoader.Load(g.Build(), Options);

        var feeds = OnnxServingLoader.WarmUpInputs(session.Inputs);
        Assert.Equal(types, types.Select(t => feeds[$"in_{t}"].ElementType));
        Assert.All(feeds.Values, f => Assert.Equal([1L, 2], f.Shape));
    }

    [Fact]
    public void Load_ModelThatFailsOnItsFirstRun_IsRefusedAtWarmUpWithOnnxRuntimesReason()
    {
        // Loads (the batch dimension is symbolic), but no [N, 3] tensor with N = 1 reshapes to [4].
        var g = new OnnxGraphBuilder("bad-reshape");
        g.AddInput("x", TensorElementType.Float, [null, 3], ["N", null]);
        g.AddInitializer("shape", new long[] { 4 }, [1]);
        g.AddNode("Reshape", ["x", "shape"], ["y"]);
        g.AddOutput("y", TensorElementType.Float, [4]);
        var model = g.Build();
        using (OnnxSession.Create(model, Options))
        {
        }

        var refused = Assert.Throws<OnnxModelRefusedException>(() => OnnxServingLoader.Load(model, Options));

        Assert.Equal("warm-up", refused.Stage);
        Assert.Contains("x: Float[1, 3]", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Reshape", refused.Message, StringComparison.Ordinal);
        Assert.IsType<OnnxRuntimeException>(refused.InnerException);
    }

    [Fact]
    public void Load_BytesThatAreNoModel_AreRefusedAtLoad()
    {
        var refused = Assert.Throws<OnnxModelRefusedException>(() => OnnxServingLoader.Load("not a model"u8.ToArray(), Options));

        Assert.Equal("load", refused.Stage);
        Assert.StartsWith("ONNX Runtime cannot load the model: ", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new long[] { -1 }, new long[] { -1, 2 }, null)]
    [InlineData(new long[] { -1, 3 }, new long[] { -1 }, null)]
    [InlineData(new long[] { 3 }, new long[] { -1 }, "fixed first dimension")]
    [InlineData(new long[] { -1, 3, 8 }, new long[] { -1 }, "not [N] or [N, k]")]
    [InlineData(new long[] { -1, -1 }, new long[] { -1 }, "symbolic second dimension")]
    [InlineData(new long[] { -1, 3 }, new long[] { 1, 4 }, "one row per input row")]
    [InlineData(new long[] { -1, 3 }, new long[0], "one row per input row")]
    public void RowBatchingProblem_SaysWhenRequestsCannotBeMergedIntoRows(long[] input, long[] output, string? expected)
    {
        var problem = OnnxServingLoader.RowBatchingProblem(
            [new OnnxNodeInfo("x", TensorElementType.Float, input, new string?[input.Length])],
            [new OnnxNodeInfo("y", TensorElementType.Float, output, new string?[output.Length])]);

        if (expected is null)
        {
            Assert.Null(problem);
        }
        else
        {
            Assert.Contains(expected, problem, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ToDoubleArray_UnsignedAndSignedBytes_AreReadByTheirOwnType()
    {
        Assert.Equal([200.0, 1.0], OrtTensor.FromUInt8([200, 1], 2).ToDoubleArray());
        Assert.Equal([-56.0, 1.0], OrtTensor.FromInt8([-56, 1], 2).ToDoubleArray());
        Assert.Equal([ulong.MaxValue], OrtTensor.FromUInt64([ulong.MaxValue], 1).ToDoubleArray());
    }
}
