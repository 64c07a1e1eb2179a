using Microsoft.Extensions.Logging;

namespace Ctm.Onnx.Tests;

public sealed class OnnxSessionTests
{
    private static Dictionary<string, OrtTensor> Feed(params (string Name, OrtTensor Value)[] inputs) =>
        inputs.ToDictionary(i => i.Name, i => i.Value, StringComparer.Ordinal);

    [Fact]
    public void Run_LinearModel_ReturnsMatMulPlusBias()
    {
        using var session = OnnxSession.Create(TestModels.Linear());
        var outputs = session.Run(Feed(("x", OrtTensor.FromFloat([1, 2, 3, -1, 0, 1], 2, 3))));

        var y = Assert.Single(outputs);
        Assert.Equal(TensorElementType.Float, y.ElementType);
        Assert.Equal([2L, 2L], y.Shape);
        Assert.Equal([.. TestModels.LinearExpected(1, 2, 3), .. TestModels.LinearExpected(-1, 0, 1)], y.AsFloat());
    }

    [Fact]
    public void Run_Sigmoid_ReturnsLogistic()
    {
        using var session = OnnxSession.Create(TestModels.Sigmoid());
        var y = session.Run(Feed(("x", OrtTensor.FromFloat([0, 2, -2], 3, 1))))[0].AsFloat();

        Assert.Equal(0.5f, y[0], 6);
        Assert.Equal(1 / (1 + MathF.Exp(-2)), y[1], 6);
        Assert.Equal(1 / (1 + MathF.Exp(2)), y[2], 6);
    }

    [Fact]
    public void Run_LabelEncoderStringToInt64_MapsKnownAndDefaultsUnknown()
    {
        using var session = OnnxSession.Create(TestModels.LabelEncoder());
        var codes = session.Run(Feed(("category", OrtTensor.FromString(["blue", "red", "purple", "green", ""], 5))))[0];

        Assert.Equal(TensorElementType.Int64, codes.ElementType);
        Assert.Equal([2L, 0, -1, 1, -1], codes.AsInt64());
    }

    [Fact]
    public void Run_Gather_LooksUpEmbeddingRows()
    {
        using var session = OnnxSession.Create(TestModels.Gather());
        var emb = session.Run(Feed(("ids", OrtTensor.FromInt64([3, 0, 2], 3))))[0];

        Assert.Equal([3L, 2L], emb.Shape);
        Assert.Equal([3f, 30, 0, 0, 2, 20], emb.AsFloat());
    }

    [Fact]
    public void Run_EveryElementType_RoundTripsThroughOrt()
    {
        using var session = OnnxSession.Create(TestModels.MultiType());
        var outputs = session.Run(Feed(
            ("d", OrtTensor.FromDouble([1.25, -3], 2)),
            ("i64", OrtTensor.FromInt64([long.MaxValue - 1, -5], 2)),
            ("flag", OrtTensor.FromBool([true, false, true], 3)),
            ("i32", OrtTensor.FromInt32([7, -8], 2)),
            ("s", OrtTensor.FromString(["héllo", "", "日本語 text"], 3))));

        Assert.Equal([2.5, -6], outputs[0].AsDouble());
        Assert.Equal([long.MaxValue, -4], outputs[1].AsInt64());
        Assert.Equal([false, true, false], outputs[2].AsBool());
        Assert.Equal([7, -8], outputs[3].AsInt32());
        Assert.Equal(["héllo", "", "日本語 text"], outputs[4].AsString());
    }

    [Fact]
    public void Run_OutputNames_ReturnsInRequestedOrder()
    {
        using var session = OnnxSession.Create(TestModels.MultiType());
        var outputs = session.Run(
            Feed(
                ("d", OrtTensor.FromDouble([1], 1)),
                ("i64", OrtTensor.FromInt64([1], 1)),
                ("flag", OrtTensor.FromBool([true], 1)),
                ("i32", OrtTensor.FromInt32([1, 2], 2)),
                ("s", OrtTensor.FromString(["a"], 1))),
            ["s_out", "d_out"]);

        Assert.Equal(2, outputs.Count);
        Assert.Equal(["a"], outputs[0].AsString());
        Assert.Equal([2.0], outputs[1].AsDouble());
    }

    [Fact]
    public void Run_AttributesOfEveryKind_AreHonoured()
    {
        using var session = OnnxSession.Create(TestModels.Attributes());
        var y = session.Run(Feed(("x", OrtTensor.FromFloat([1, -2, 3, -4, 5, -6], 2, 3))))[0].AsFloat();

        Assert.Equal([11f, 9, 13, 18, 25, 17], y);
    }

    [Fact]
    public void AsWrongType_ThrowsNamingActualType()
    {
        var tensor = OrtTensor.FromInt64([1], 1);

        var ex = Assert.Throws<InvalidOperationException>(() => tensor.AsFloat());
        Assert.Contains("Int64", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_BytesThatAreNotOnnx_ThrowsOnnxRuntimeExceptionWithOrtMessage()
    {
        var ex = Assert.Throws<OnnxRuntimeException>(() => OnnxSession.Create("this is not a model"u8.ToArray()));

        Assert.Equal(7, ex.ErrorCode); // ORT_INVALID_PROTOBUF
        Assert.Contains("protobuf", ex.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("[ErrorCode", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_ModelWithUnknownOperator_ThrowsOrtMessageNamingIt()
    {
        var g = new Model.OnnxGraphBuilder("bad");
        g.AddInput("x", TensorElementType.Float, [1]);
        g.AddNode("NoSuchOperator", ["x"], ["y"]);
        g.AddOutput("y", TensorElementType.Float, [1]);

        var ex = Assert.Throws<OnnxRuntimeException>(() => OnnxSession.Create(g.Build()));
        Assert.Contains("NoSuchOperator", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_WrongElementType_ThrowsNamingInputExpectedAndActual()
    {
        using var session = OnnxSession.Create(TestModels.Linear());

        var ex = Assert.Throws<ArgumentException>(() => session.Run(Feed(("x", OrtTensor.FromDouble([1, 2, 3], 1, 3)))));
        Assert.Contains("'x'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Float", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Double", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_WrongRank_ThrowsNamingInput()
    {
        using var session = OnnxSession.Create(TestModels.Linear());

        var ex = Assert.Throws<ArgumentException>(() => session.Run(Feed(("x", OrtTensor.FromFloat([1, 2, 3], 3)))));
        Assert.Contains("'x'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("rank 2", ex.Message, StringComparison.Ordinal);
        Assert.Contains("rank 1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_WrongFixedDimension_ThrowsNamingInputAndShape()
    {
        using var session = OnnxSession.Create(TestModels.Linear());

        var ex = Assert.Throws<ArgumentException>(() => session.Run(Feed(("x", OrtTensor.FromFloat([1, 2, 3, 4], 1, 4)))));
        Assert.Contains("'x'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("[N, 3]", ex.Message, StringComparison.Ordinal);
        Assert.Contains("[1, 4]", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_UnknownInputName_ThrowsListingTheModelsInputs()
    {
        using var session = OnnxSession.Create(TestModels.Linear());

        var ex = Assert.Throws<ArgumentException>(() => session.Run(Feed(
            ("x", OrtTensor.FromFloat([1, 2, 3], 1, 3)),
            ("z", OrtTensor.FromFloat([1], 1)))));
        Assert.Contains("Unknown input 'z'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("x: Float[N, 3]", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_MissingInput_ThrowsNamingIt()
    {
        using var session = OnnxSession.Create(TestModels.DynamicAdd());

        var ex = Assert.Throws<ArgumentException>(() => session.Run(Feed(("a", OrtTensor.FromFloat([1], 1)))));
        Assert.Contains("Missing input 'b'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_UnknownOutputName_ThrowsNamingIt()
    {
        using var session = OnnxSession.Create(TestModels.Sigmoid());

        var ex = Assert.Throws<ArgumentException>(() => session.Run(Feed(("x", OrtTensor.FromFloat([1], 1, 1))), ["nope"]));
        Assert.Contains("Unknown output 'nope'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_ShapesOrtRejects_ThrowsOnnxRuntimeExceptionWithOrtMessage()
    {
        using var session = OnnxSession.Create(TestModels.DynamicAdd());

        var ex = Assert.Throws<OnnxRuntimeException>(() => session.Run(Feed(
            ("a", OrtTensor.FromFloat([1, 2], 2)),
            ("b", OrtTensor.FromFloat([1, 2, 3], 3)))));
        Assert.Contains("broadcast", ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Run_NaNInFloatInput_PassesThroughAsNaN()
    {
        using var session = OnnxSession.Create(TestModels.Linear());
        var y = session.Run(Feed(("x", OrtTensor.FromFloat([float.NaN, 0, 0, 1, 1, 1], 2, 3))))[0].AsFloat();

        Assert.True(float.IsNaN(y[0]));
        Assert.True(float.IsNaN(y[1]));
        Assert.Equal(TestModels.LinearExpected(1, 1, 1), y[2..]);
    }

    [Fact]
    public void Tensor_ShapeThatDoesNotMatchData_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => OrtTensor.FromFloat([1, 2, 3], 2, 2));
        Assert.Contains("4 elements", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Metadata_CustomPropsAndModelFields_AreExposed()
    {
        using var session = OnnxSession.Create(TestModels.Linear(new Dictionary<string, string>
        {
            ["ctm.task"] = "binary",
            ["ctm.dataset"] = "ünïcode",
        }));

        Assert.Equal(2, session.Metadata.Count);
        Assert.Equal("binary", session.Metadata["ctm.task"]);
        Assert.Equal("ünïcode", session.Metadata["ctm.dataset"]);
        Assert.Equal("ctm-tests", session.Description.ProducerName);
        Assert.Equal("linear", session.Description.GraphName);
        Assert.Equal("ai.ctm", session.Description.Domain);
        Assert.Equal("linear test model", session.Description.Description);
        Assert.Equal("graph doc", session.Description.GraphDescription);
        Assert.Equal(7, session.Description.Version);
    }

    [Fact]
    public void InputsAndOutputs_DynamicDims_AreMinusOneWithSymbolicName()
    {
        using var session = OnnxSession.Create(TestModels.Linear());

        var x = Assert.Single(session.Inputs);
        Assert.Equal("x", x.Name);
        Assert.Equal(TensorElementType.Float, x.ElementType);
        Assert.Equal(OnnxValueKind.Tensor, x.Kind);
        Assert.Equal([-1L, 3], x.Shape);
        Assert.Equal(new string?[] { "N", null }, x.SymbolicDims.AsEnumerable());
        var y = Assert.Single(session.Outputs);
        Assert.Equal([-1L, 2], y.Shape);

        using var gather = OnnxSession.Create(TestModels.Gather());
        Assert.Null(Assert.Single(gather.Inputs[0].SymbolicDims));
        Assert.Equal([-1L], gather.Inputs[0].Shape);
    }

    [Fact]
    public void Outputs_ZipMap_IsReportedAsSequenceAndSkippedByDefault()
    {
        using var session = OnnxSession.Create(TestModels.ZipMapClassifier());

        Assert.Equal(OnnxValueKind.Tensor, session.Outputs[0].Kind);
        Assert.Equal(OnnxValueKind.Sequence, session.Outputs[1].Kind);
        Assert.False(session.Outputs[1].IsTensor);
        var input = Feed(("p", OrtTensor.FromFloat([0.2f, 0.8f, 0.9f, 0.1f], 2, 2)));
        var outputs = session.Run(input);
        Assert.Equal([1L, 0], Assert.Single(outputs).AsInt64());
        var ex = Assert.Throws<NotSupportedException>(() => session.Run(input, ["probabilities"]));
        Assert.Contains("'probabilities'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_FromManyThreadsOnOneSession_EveryResultIsRight()
    {
        using var session = OnnxSession.Create(TestModels.Linear());
        var failures = 0;

        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, worker =>
        {
            var random = new Random(worker);
            for (var i = 0; i < 2_000; i++)
            {
                var rows = random.Next(1, 5);
                var x = new float[rows * 3];
                for (var j = 0; j < x.Length; j++)
                {
                    x[j] = random.Next(-10, 10);
                }

                var y = i % 2 == 0
                    ? session.Run(Feed(("x", OrtTensor.FromFloat(x, rows, 3))))[0].AsFloat()
                    : RunFast(session, x, rows);
                for (var r = 0; r < rows; r++)
                {
                    var expected = TestModels.LinearExpected(x[r * 3], x[r * 3 + 1], x[r * 3 + 2]);
                    if (y[r * 2] != expected[0] || y[r * 2 + 1] != expected[1])
                    {
                        Interlocked.Increment(ref failures);
                    }
                }
            }
        });

        Assert.Equal(0, failures);

        static float[] RunFast(OnnxSession session, float[] x, int rows)
        {
            var y = new float[rows * 2];
            session.Run([new FloatTensorInput("x", x, [rows, 3])], [new FloatTensorOutput("y", y)]);
            return y;
        }
    }

    [Fact]
    public void FloatPath_WithAndWithoutOutputShape_MatchesTensorPath()
    {
        using var session = OnnxSession.Create(TestModels.Linear());
        float[] x = [1, 2, 3, -1, 0, 1];
        var expected = session.Run(Feed(("x", OrtTensor.FromFloat(x, 2, 3))))[0].AsFloat();

        var copied = new float[4];
        session.Run([new FloatTensorInput("x", x, [2, 3])], [new FloatTensorOutput("y", copied)]);
        var inPlace = new float[4];
        session.Run([new FloatTensorInput("x", x, [2, 3])], [new FloatTensorOutput("y", inPlace, [2, 2])]);
        var viaHelper = new float[4];
        var shape = session.RunFloat("x", x, [2, 3], "y", viaHelper);

        Assert.Equal(expected, copied);
        Assert.Equal(expected, inPlace);
        Assert.Equal(expected, viaHelper);
        Assert.Equal([2L, 2L], shape);
    }

    [Fact]
    public void FloatPath_SameBuffersAcrossCalls_ReadsTheirCurrentContentsAndShapes()
    {
        // The float path reuses native values made over the same buffer with the same shape: each call must
        // still see what the buffer holds now, and a new shape or a new buffer must not get a stale value.
        using var session = OnnxSession.Create(TestModels.Linear());
        var x = new float[6];
        var y = new float[4];
        for (var call = 0; call < 6; call++)
        {
            var rows = call % 3 == 2 ? 1 : 2;
            for (var j = 0; j < x.Length; j++)
            {
                x[j] = call + j;
            }

            var input = x.AsMemory(0, rows * 3);
            var output = y.AsMemory(0, rows * 2);
            session.Run([new FloatTensorInput("x", input, [rows, 3])], [new FloatTensorOutput("y", output, [rows, 2])]);

            for (var r = 0; r < rows; r++)
            {
                Assert.Equal(TestModels.LinearExpected(x[r * 3], x[r * 3 + 1], x[r * 3 + 2]), y.AsSpan(r * 2, 2).ToArray());
            }
        }

        var other = new float[] { 1, 1, 1 };
        var otherOut = new float[2];
        session.Run([new FloatTensorInput("x", other, [1, 3])], [new FloatTensorOutput("y", otherOut, [1, 2])]);
        Assert.Equal(TestModels.LinearExpected(1, 1, 1), otherOut);
    }

    [Fact]
    public void FloatPath_OutputWhoseRowsDoNotFollowTheFirstInput_IsComputedByOrtAndCopied()
    {
        // a broadcasts against b: the output has b's length, not a's, so its shape cannot be guessed from the
        // first input and ORT must allocate it; the result still lands in the caller's buffer.
        using var session = OnnxSession.Create(TestModels.DynamicAdd());
        var z = new float[3];

        session.Run(
            [new FloatTensorInput("a", new float[] { 10 }, [1]), new FloatTensorInput("b", new float[] { 1, 2, 3 }, [3])],
            [new FloatTensorOutput("z", z)]);

        Assert.Equal([11f, 12, 13], z);
    }

    [Fact]
    public void FloatPath_BufferOfWrongSize_ThrowsNamingOutput()
    {
        using var session = OnnxSession.Create(TestModels.Linear());

        var ex = Assert.Throws<ArgumentException>(() =>
            session.Run([new FloatTensorInput("x", new float[6], [2, 3])], [new FloatTensorOutput("y", new float[3])]));
        Assert.Contains("'y'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("4 floats", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_CudaAsked_RunsOnCudaWhereItLoadsElseFallsBackToCpuAndLogsWhyOnce()
    {
        var logger = new TestLogger();
        using var session = OnnxSession.Create(TestModels.Sigmoid(), new OnnxSessionOptions
        {
            Provider = ExecutionProvider.Cuda,
            Logger = logger,
            IntraOpThreads = 1,
        });

        if (OnnxRuntimeTests.CudaLibrariesLoad())
        {
            // A GPU machine with CUDA 13: the same call must really run on the device.
            Assert.Equal(ExecutionProvider.Cuda, session.ActiveProvider);
            Assert.Empty(logger.Lines);
        }
        else
        {
            Assert.Equal(ExecutionProvider.Cpu, session.ActiveProvider);
            var line = Assert.Single(logger.Lines);
            Assert.Equal(LogLevel.Warning, line.Level);
            Assert.Contains("falling back to the CPU provider", line.Message, StringComparison.Ordinal);
            Assert.Contains("Failed to load shared library", line.Message, StringComparison.Ordinal);
        }

        Assert.Equal([0.5f], session.Run(Feed(("x", OrtTensor.FromFloat([0], 1, 1))))[0].AsFloat());
        using var cpu = OnnxSession.Create(TestModels.Sigmoid());
        Assert.Equal(ExecutionProvider.Cpu, cpu.ActiveProvider);
        Assert.Equal([0.5f], cpu.Run(Feed(("x", OrtTensor.FromFloat([0], 1, 1))))[0].AsFloat());
    }

    [Fact]
    public async Task Dispose_WhileRunsAreInFlight_LetsThemFinishThenRefusesNewOnes()
    {
        var session = OnnxSession.Create(TestModels.Linear());
        using var started = new CountdownEvent(4);
        var failures = 0;
        var runners = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            started.Signal();
            for (var i = 0; i < 2_000; i++)
            {
                try
                {
                    var y = new float[2];
                    session.Run([new FloatTensorInput("x", new float[] { 1, 2, 3 }, [1, 3])], [new FloatTensorOutput("y", y, [1, 2])]);
                    if (y[0] != TestModels.LinearExpected(1, 2, 3)[0])
                    {
                        Interlocked.Increment(ref failures);
                    }
                }
                catch (ObjectDisposedException)
                {
                    return;
                }
            }
        })).ToArray();

        started.Wait();
        session.Dispose();
        await Task.WhenAll(runners);

        Assert.Equal(0, failures);
        Assert.Throws<ObjectDisposedException>(() => session.Run(Feed(("x", OrtTensor.FromFloat([1, 2, 3], 1, 3)))));
    }

    [Fact]
    public void Run_AfterDispose_ThrowsObjectDisposed()
    {
        var session = OnnxSession.Create(TestModels.Sigmoid());
        session.Dispose();

        Assert.Throws<ObjectDisposedException>(() => session.Run(Feed(("x", OrtTensor.FromFloat([0], 1, 1)))));
    }
}
