using Ctm.Onnx.Model;
using Ctm.Onnx.Proto;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Ctm.Onnx.Tests;

/// <summary>The codec generated from onnx.proto3: what our builder writes, what other producers wrote, bad input.</summary>
public sealed class OnnxProtoTests
{
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Fixtures");

    [Fact]
    public void Builder_EveryKindOfField_ParsesBackWithTheGeneratedModelProto()
    {
        var branch = new OnnxGraphBuilder("branch") { DocString = "sub-graph" };
        branch.AddNode("Constant", [], ["one"], attributes: [OnnxAttribute.Tensor("value", OrtTensor.FromFloat([1], 1))]);
        branch.AddOutput("one", TensorElementType.Float, [1]);
        var g = new OnnxGraphBuilder("everything") { DocString = "graph doc" };
        g.AddInput("x", TensorElementType.Float, [null, 3], ["N"]);
        g.AddInput("s", TensorElementType.String, [], null);
        g.AddInput("any", TensorElementType.Int64, null);
        g.AddInitializer("f", new float[] { 1.5f, -2 }, [2]);
        g.AddInitializer("d", new double[] { Math.PI }, [1]);
        g.AddInitializer("l", new long[] { long.MinValue, 0 }, [1, 2]);
        g.AddInitializer("b", new bool[] { true, false, true }, [3]);
        g.AddInitializer("words", new string[] { "a", "ü", string.Empty }, [3]);
        g.AddNode("Custom", ["x", string.Empty, "f"], ["y", "aux"], name: "custom", domain: "ai.ctm.test", attributes:
        [
            OnnxAttribute.Float("alpha", 0.25f),
            OnnxAttribute.Int("zero", 0),
            OnnxAttribute.Int("negative", -3),
            OnnxAttribute.String("mode", "fast ✓"),
            OnnxAttribute.Floats("scales", 1, -0.5f),
            OnnxAttribute.Ints("perm", 1, 0, 300),
            OnnxAttribute.Strings("keys", "red", "grün"),
            OnnxAttribute.Tensor("value", OrtTensor.FromInt32([7, -8], 2)),
            OnnxAttribute.Graph("body", branch),
        ]);
        g.AddValueInfo("aux", TensorElementType.Double, [2, null], [null, "K"]);
        g.AddOutput("y", TensorElementType.Float, [null, 0]);
        g.AddSequenceOfMapsOutput("zip", TensorElementType.String, TensorElementType.Float);
        var bytes = g.Build(new OnnxModelInfo
        {
            Opsets = { [""] = 21, ["ai.onnx.ml"] = 3 },
            Metadata = { ["ctm.task"] = "regression", ["ctm.classes"] = "[]" },
            ProducerName = "ctm-tests",
            ProducerVersion = "2.1",
            Domain = "ai.ctm",
            ModelVersion = 12,
            DocString = "model doc",
        });

        var model = ModelProto.Parser.ParseFrom(bytes);

        Assert.Equal(10, model.IrVersion);
        Assert.Equal(("ctm-tests", "2.1", "ai.ctm", 12L, "model doc"), (model.ProducerName, model.ProducerVersion, model.Domain, model.ModelVersion, model.DocString));
        Assert.Equal([("", 21L), ("ai.onnx.ml", 3L)], model.OpsetImport.Select(o => (o.Domain, o.Version)));
        Assert.Equal([("ctm.task", "regression"), ("ctm.classes", "[]")], model.MetadataProps.Select(m => (m.Key, m.Value)));
        var graph = model.Graph;
        Assert.Equal(("everything", "graph doc"), (graph.Name, graph.DocString));

        Assert.Equal(["x", "s", "any"], graph.Input.Select(i => i.Name));
        var x = graph.Input[0].Type.TensorType;
        Assert.Equal((int)TensorElementType.Float, x.ElemType);
        Assert.Equal(TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam, x.Shape.Dim[0].ValueCase);
        Assert.Equal("N", x.Shape.Dim[0].DimParam);
        Assert.Equal(3, x.Shape.Dim[1].DimValue);
        Assert.Empty(graph.Input[1].Type.TensorType.Shape.Dim); // a scalar: shape present, no dimensions
        Assert.Null(graph.Input[2].Type.TensorType.Shape); // rank unknown: no shape at all
        var y = graph.Output[0].Type.TensorType.Shape;
        Assert.Equal(TensorShapeProto.Types.Dimension.ValueOneofCase.None, y.Dim[0].ValueCase);
        Assert.Equal(TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue, y.Dim[1].ValueCase); // 0 is written
        var zip = graph.Output[1].Type.SequenceType.ElemType.MapType;
        Assert.Equal((int)TensorElementType.String, zip.KeyType);
        Assert.Equal((int)TensorElementType.Float, zip.ValueType.TensorType.ElemType);
        var aux = Assert.Single(graph.ValueInfo);
        Assert.Equal(("aux", (int)TensorElementType.Double, "K"), (aux.Name, aux.Type.TensorType.ElemType, aux.Type.TensorType.Shape.Dim[1].DimParam));

        Assert.Equal(["f", "d", "l", "b", "words"], graph.Initializer.Select(t => t.Name));
        Assert.Equal([1.5f, -2], FloatsOf(graph.Initializer[0]));
        Assert.Equal(BitConverter.GetBytes(Math.PI), graph.Initializer[1].RawData.ToByteArray());
        Assert.Equal([1L, 2], graph.Initializer[2].Dims);
        Assert.Equal([.. BitConverter.GetBytes(long.MinValue), .. BitConverter.GetBytes(0L)], graph.Initializer[2].RawData.ToByteArray());
        Assert.Equal([1, 0, 1], graph.Initializer[3].RawData.ToByteArray());
        Assert.Equal((int)TensorElementType.Bool, graph.Initializer[3].DataType);
        Assert.Equal(["a", "ü", ""], graph.Initializer[4].StringData.Select(s => s.ToStringUtf8()));

        var node = Assert.Single(graph.Node);
        Assert.Equal(("custom", "Custom", "ai.ctm.test"), (node.Name, node.OpType, node.Domain));
        Assert.Equal(["x", "", "f"], node.Input);
        Assert.Equal(["y", "aux"], node.Output);
        var a = node.Attribute.ToDictionary(at => at.Name);
        Assert.Equal((AttributeProto.Types.AttributeType.Float, 0.25f), (a["alpha"].Type, a["alpha"].F));
        Assert.Equal((AttributeProto.Types.AttributeType.Int, 0L), (a["zero"].Type, a["zero"].I));
        Assert.Equal(-3, a["negative"].I);
        Assert.Equal((AttributeProto.Types.AttributeType.String, "fast ✓"), (a["mode"].Type, a["mode"].S.ToStringUtf8()));
        Assert.Equal([1, -0.5f], a["scales"].Floats);
        Assert.Equal([1L, 0, 300], a["perm"].Ints);
        Assert.Equal(["red", "grün"], a["keys"].Strings.Select(s => s.ToStringUtf8()));
        Assert.Equal((AttributeProto.Types.AttributeType.Tensor, (int)TensorElementType.Int32, ""), (a["value"].Type, a["value"].T.DataType, a["value"].T.Name));
        Assert.Equal([.. BitConverter.GetBytes(7), .. BitConverter.GetBytes(-8)], a["value"].T.RawData.ToByteArray());
        Assert.Equal(AttributeProto.Types.AttributeType.Graph, a["body"].Type);
        Assert.Equal(("branch", "sub-graph", "Constant", "one"), (a["body"].G.Name, a["body"].G.DocString, a["body"].G.Node[0].OpType, a["body"].G.Output[0].Name));
    }

    [Fact]
    public void Readers_BuiltModel_ReportWhatTheBuilderWrote()
    {
        var bytes = TestModels.LabelEncoder();

        var summary = OnnxModelReader.Read(bytes);
        var node = Assert.Single(OnnxGraphReader.ReadNodes(bytes));

        Assert.Equal(("label-encoder", 8L), (summary.GraphName, summary.IrVersion));
        Assert.Equal(["category"], summary.Inputs);
        Assert.Equal(["code"], summary.Outputs);
        Assert.Equal(("LabelEncoder", "ai.onnx.ml"), (node.OpType, node.Domain));
        Assert.Equal(["red", "green", "blue"], node.Attributes["keys_strings"].Strings);
        Assert.Equal([0L, 1, 2], node.Attributes["values_int64s"].Ints);
        Assert.Equal(-1, node.Attributes["default_int64"].Int);
        Assert.Null(node.Attributes["default_int64"].Float);
        Assert.Null(node.Attributes["keys_strings"].Text);
    }

    [Fact]
    public void PytorchExport_ReadAndWrittenBack_KeepsEveryFieldAndTheWeights()
    {
        var original = File.ReadAllBytes(Path.Combine(Fixtures, "pytorch_linear", "model.onnx"));

        var model = ModelProto.Parser.ParseFrom(original);
        var rewritten = ModelProto.Parser.ParseFrom(model.ToByteArray());
        var summary = OnnxModelReader.Read(original);
        var gemm = Assert.Single(OnnxGraphReader.ReadNodes(original));

        Assert.Equal(model, rewritten);
        Assert.Equal(("pytorch", "0.3", 3L), (model.ProducerName, model.ProducerVersion, model.IrVersion));
        Assert.Equal(new Dictionary<string, long> { [""] = 6 }, summary.Opsets);
        Assert.Equal(("torch-jit-export", 3L), (summary.GraphName, summary.IrVersion));
        Assert.Equal(["0", "1", "2"], summary.Inputs);
        Assert.Equal(["3"], summary.Outputs);
        Assert.Equal(["1", "2"], summary.Initializers);
        Assert.Equal("Gemm", gemm.OpType);
        Assert.Equal(1f, gemm.Attributes["alpha"].Float);
        Assert.Equal(1, gemm.Attributes["transB"].Int);

        // y = x · Wᵀ + b with the exported weights gives the output PyTorch recorded beside the model.
        var weights = model.Graph.Initializer.Single(t => t.Name == "1");
        var bias = FloatsOf(model.Graph.Initializer.Single(t => t.Name == "2"));
        var input = TensorProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(Fixtures, "pytorch_linear", "input_0.pb")));
        var expected = TensorProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(Fixtures, "pytorch_linear", "output_0.pb")));
        var (rows, inputs, outputs) = ((int)input.Dims[0], (int)input.Dims[1], (int)weights.Dims[0]);
        var (x, w, want) = (FloatsOf(input), FloatsOf(weights), FloatsOf(expected));
        for (var r = 0; r < rows; r++)
        {
            for (var o = 0; o < outputs; o++)
            {
                var sum = bias[o];
                for (var i = 0; i < inputs; i++)
                {
                    sum += x[(r * inputs) + i] * w[(o * inputs) + i];
                }

                Assert.Equal(want[(r * outputs) + o], sum, 1e-4f);
            }
        }
    }

    [Fact]
    public void OnnxHelperModelWithSubgraphs_WrittenBack_RunsInOnnxRuntimeWithTheRecordedOutput()
    {
        var original = File.ReadAllBytes(Path.Combine(Fixtures, "onnx_if", "model.onnx"));
        var model = ModelProto.Parser.ParseFrom(original);
        var rewritten = model.ToByteArray();
        var cond = TensorProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(Fixtures, "onnx_if", "input_0.pb")));
        var expected = TensorProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(Fixtures, "onnx_if", "output_0.pb")));

        using var session = OnnxSession.Create(rewritten);
        var output = session.Run(new Dictionary<string, OrtTensor> { [cond.Name] = OrtTensor.FromBool([cond.RawData[0] != 0]) })[0];

        Assert.Equal(model, ModelProto.Parser.ParseFrom(rewritten));
        Assert.Equal(2, model.Graph.Node[0].Attribute.Count(a => a.Type == AttributeProto.Types.AttributeType.Graph));
        Assert.Equal(expected.Dims, output.Shape);
        Assert.Equal(FloatsOf(expected), output.AsFloat());
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("text")]
    [InlineData("empty")]
    public void Readers_NotAnOnnxModel_ThrowInvalidDataNamingTheProblem(string kind)
    {
        var model = TestModels.Linear();
        byte[] bytes = kind switch
        {
            "truncated" => model[..(model.Length / 2)],
            "text" => "{\"not\": \"a model\"}\n"u8.ToArray(),
            _ => [],
        };

        var read = Assert.Throws<InvalidDataException>(() => OnnxModelReader.Read(bytes));
        var nodes = Assert.Throws<InvalidDataException>(() => OnnxGraphReader.ReadNodes(bytes));

        foreach (var message in new[] { read.Message, nodes.Message })
        {
            Assert.Contains("ONNX model", message, StringComparison.Ordinal);
            Assert.Contains($"{bytes.Length} bytes", message, StringComparison.Ordinal);
        }

        if (kind == "truncated")
        {
            Assert.Contains("truncated", read.Message, StringComparison.Ordinal);
            Assert.IsType<InvalidProtocolBufferException>(read.InnerException);
        }
        else if (kind == "empty")
        {
            Assert.Contains("ModelProto.graph", read.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ReadViews_EveryField_HasOnnxProtosNumberAndType()
    {
        // The views in onnx_views.proto restate ONNX's field numbers; a typo would silently read nothing.
        (MessageDescriptor View, MessageDescriptor Onnx)[] pairs =
        [
            (ModelSummaryView.Descriptor, ModelProto.Descriptor),
            (GraphSummaryView.Descriptor, GraphProto.Descriptor),
            (TensorNameView.Descriptor, TensorProto.Descriptor),
            (ValueInfoNameView.Descriptor, ValueInfoProto.Descriptor),
            (ModelNodesView.Descriptor, ModelProto.Descriptor),
            (GraphNodesView.Descriptor, GraphProto.Descriptor),
            (NodeView.Descriptor, NodeProto.Descriptor),
            (AttributeView.Descriptor, AttributeProto.Descriptor),
        ];
        foreach (var (view, onnx) in pairs)
        {
            foreach (var field in view.Fields.InDeclarationOrder())
            {
                var match = onnx.FindFieldByName(field.Name);
                Assert.True(match is not null, $"{view.Name}.{field.Name} is not a field of {onnx.Name}");
                Assert.Equal((match.FieldNumber, match.IsRepeated), (field.FieldNumber, field.IsRepeated));
                // A view may read ONNX's UTF-8 `bytes` as `string`: the same length-delimited wire format.
                Assert.Equal(match.FieldType == FieldType.Bytes && field.FieldType == FieldType.String ? FieldType.String : match.FieldType, field.FieldType);
                if (field.FieldType == FieldType.Message && field.MessageType.File == onnx.File)
                {
                    Assert.Same(match.MessageType, field.MessageType);
                }
                else if (field.FieldType == FieldType.Message)
                {
                    Assert.Contains(pairs, p => p.View == field.MessageType && p.Onnx == match.MessageType);
                }
                else if (field.FieldType == FieldType.Enum)
                {
                    Assert.Same(match.EnumType, field.EnumType);
                }
            }
        }
    }

    [Fact]
    public void GeneratedTypes_AreNotPartOfThePublicApi()
    {
        var exported = typeof(OnnxGraphBuilder).Assembly.GetExportedTypes();

        Assert.DoesNotContain(exported, t => t.Namespace == "Ctm.Onnx.Proto");
        Assert.False(typeof(ModelProto).IsPublic);
    }

    private static float[] FloatsOf(TensorProto tensor) =>
        tensor.FloatData.Count > 0 ? [.. tensor.FloatData] : [.. System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(tensor.RawData.Span)];
}
