using System.Runtime.InteropServices;

namespace Ctm.Onnx.Model;

/// <summary>
/// Builds an ONNX graph and serializes it as a <c>ModelProto</c>, with our own protobuf encoder (no
/// Google.Protobuf): the subset of <c>onnx.proto</c> that inference graphs need.
/// </summary>
/// <example>
/// <code>
/// var g = new OnnxGraphBuilder("linear");
/// g.AddInput("x", TensorElementType.Float, [null, 3]);
/// g.AddInitializer("W", new float[] { 1, 2, 3, 4, 5, 6 }, [3, 2]);
/// g.AddNode("MatMul", ["x", "W"], ["y"]);
/// g.AddOutput("y", TensorElementType.Float, [null, 2]);
/// byte[] model = g.Build(new OnnxModelInfo { Opsets = { [""] = 17 }, Metadata = { ["ctm.task"] = "regression" } });
/// </code>
/// </example>
/// <param name="name">GraphProto.name.</param>
public sealed class OnnxGraphBuilder(string name)
{
    // GraphProto field numbers (onnx.proto).
    private const int GraphNode = 1;
    private const int GraphName = 2;
    private const int GraphInitializer = 5;
    private const int GraphDocString = 10;
    private const int GraphInput = 11;
    private const int GraphOutput = 12;
    private const int GraphValueInfo = 13;

    private readonly List<ValueInfo> inputs = [];
    private readonly List<ValueInfo> outputs = [];
    private readonly List<ValueInfo> valueInfos = [];
    private readonly List<(string Name, OrtTensor Value)> initializers = [];
    private readonly List<Node> nodes = [];
    private readonly HashSet<string> definedNames = new(StringComparer.Ordinal);
    private int autoNames;

    /// <summary>GraphProto.name.</summary>
    public string Name { get; } = name;

    /// <summary>GraphProto.doc_string.</summary>
    public string? DocString { get; set; }

    /// <summary>Number of nodes added so far.</summary>
    public int NodeCount => nodes.Count;

    /// <summary>Adds a tensor graph input.</summary>
    /// <param name="name">The input's name.</param>
    /// <param name="elementType">Its element type.</param>
    /// <param name="dims">Its dimensions, null for a dynamic one; a null array leaves the shape undeclared.</param>
    /// <param name="dimNames">Optional symbolic names (<c>dim_param</c>, e.g. "N") for the dynamic dimensions, by position.</param>
    public OnnxGraphBuilder AddInput(string name, TensorElementType elementType, long?[]? dims, string?[]? dimNames = null)
    {
        Define(name);
        inputs.Add(new ValueInfo(name, TensorType(elementType, dims, dimNames)));
        return this;
    }

    /// <summary>Adds a tensor graph output (a value some node produces).</summary>
    /// <param name="name">The output's name.</param>
    /// <param name="elementType">Its element type.</param>
    /// <param name="dims">Its dimensions, null for a dynamic one; a null array leaves the shape undeclared.</param>
    /// <param name="dimNames">Optional symbolic names for the dynamic dimensions, by position.</param>
    public OnnxGraphBuilder AddOutput(string name, TensorElementType elementType, long?[]? dims, string?[]? dimNames = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        outputs.Add(new ValueInfo(name, TensorType(elementType, dims, dimNames)));
        return this;
    }

    /// <summary>
    /// Adds a graph output that is a sequence of maps (what ai.onnx.ml ZipMap produces), e.g. key Int64 or String,
    /// value Float.
    /// </summary>
    public OnnxGraphBuilder AddSequenceOfMapsOutput(string name, TensorElementType keyType, TensorElementType valueType)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        outputs.Add(new ValueInfo(name, new TypeDescription.SequenceOfMaps(keyType, valueType)));
        return this;
    }

    /// <summary>Declares the type of an intermediate value (optional in ONNX; helps readers and shape inference).</summary>
    public OnnxGraphBuilder AddValueInfo(string name, TensorElementType elementType, long?[]? dims, string?[]? dimNames = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        valueInfos.Add(new ValueInfo(name, TensorType(elementType, dims, dimNames)));
        return this;
    }

    /// <summary>Adds a constant tensor (initializer) of floats.</summary>
    public OnnxGraphBuilder AddInitializer(string name, float[] data, long[] dims) => AddInitializer(name, OrtTensor.FromFloat(data, dims));

    /// <summary>Adds a constant tensor (initializer) of doubles.</summary>
    public OnnxGraphBuilder AddInitializer(string name, double[] data, long[] dims) => AddInitializer(name, OrtTensor.FromDouble(data, dims));

    /// <summary>Adds a constant tensor (initializer) of int64.</summary>
    public OnnxGraphBuilder AddInitializer(string name, long[] data, long[] dims) => AddInitializer(name, OrtTensor.FromInt64(data, dims));

    /// <summary>Adds a constant tensor (initializer) of int32.</summary>
    public OnnxGraphBuilder AddInitializer(string name, int[] data, long[] dims) => AddInitializer(name, OrtTensor.FromInt32(data, dims));

    /// <summary>Adds a constant tensor (initializer) of strings.</summary>
    public OnnxGraphBuilder AddInitializer(string name, string[] data, long[] dims) => AddInitializer(name, OrtTensor.FromString(data, dims));

    /// <summary>Adds a constant tensor (initializer) of bools.</summary>
    public OnnxGraphBuilder AddInitializer(string name, bool[] data, long[] dims) => AddInitializer(name, OrtTensor.FromBool(data, dims));

    /// <summary>Adds a constant tensor (initializer) of any element type.</summary>
    public OnnxGraphBuilder AddInitializer(string name, OrtTensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        Define(name);
        initializers.Add((name, value));
        return this;
    }

    /// <summary>Adds a node; nodes must be added in topological order (inputs defined before use).</summary>
    /// <param name="opType">The operator, e.g. <c>MatMul</c>.</param>
    /// <param name="inputs">Input value names; an empty string skips an optional input.</param>
    /// <param name="outputs">Output value names.</param>
    /// <param name="name">The node's name; null generates one.</param>
    /// <param name="domain">The operator's domain: "" for ONNX, <c>ai.onnx.ml</c> for the ML operators.</param>
    /// <param name="attributes">The node's attributes.</param>
    public OnnxGraphBuilder AddNode(
        string opType,
        IReadOnlyList<string> inputs,
        IReadOnlyList<string> outputs,
        string? name = null,
        string domain = "",
        IReadOnlyList<OnnxAttribute>? attributes = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(opType);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(domain);
        foreach (var output in outputs)
        {
            if (!string.IsNullOrEmpty(output))
            {
                Define(output);
            }
        }

        nodes.Add(new Node(
            opType,
            [.. inputs],
            [.. outputs],
            name ?? $"{opType}_{autoNames++}",
            domain,
            attributes is null ? [] : [.. attributes]));
        return this;
    }

    /// <summary>Serializes a ModelProto holding this graph.</summary>
    public byte[] Build(OnnxModelInfo? info = null)
    {
        info ??= new OnnxModelInfo();
        var opsets = info.Opsets.Count > 0 ? info.Opsets : new Dictionary<string, long> { [""] = 17 };
        var defaultOpset = opsets.TryGetValue("", out var v) ? v : opsets.GetValueOrDefault("ai.onnx", 17);
        var model = new ProtoWriter();
        // ModelProto field numbers: ir_version 1, producer_name 2, producer_version 3, domain 4, model_version 5,
        // doc_string 6, graph 7, opset_import 8, metadata_props 14.
        model.WriteInt64(1, info.IrVersion ?? IrVersionFor(defaultOpset));
        model.WriteString(2, info.ProducerName);
        WriteOptional(model, 3, info.ProducerVersion);
        WriteOptional(model, 4, info.Domain);
        if (info.ModelVersion != 0)
        {
            model.WriteInt64(5, info.ModelVersion);
        }

        WriteOptional(model, 6, info.DocString);
        model.WriteMessage(7, WriteGraph);
        foreach (var (domain, version) in opsets)
        {
            // OperatorSetIdProto: domain 1, version 2.
            model.WriteMessage(8, w =>
            {
                w.WriteString(1, domain);
                w.WriteInt64(2, version);
            });
        }

        foreach (var (key, value) in info.Metadata)
        {
            // StringStringEntryProto: key 1, value 2.
            model.WriteMessage(14, w =>
            {
                w.WriteString(1, key);
                w.WriteString(2, value);
            });
        }

        return model.ToArray();
    }

    /// <summary>The IR version released with a default-domain opset (onnx/docs/Versioning.md).</summary>
    public static long IrVersionFor(long opset) => opset switch
    {
        <= 14 => 7,
        <= 18 => 8,
        <= 20 => 9,
        <= 22 => 10,
        _ => 11,
    };

    internal void WriteGraph(ProtoWriter graph)
    {
        foreach (var node in nodes)
        {
            graph.WriteMessage(GraphNode, w => WriteNode(w, node));
        }

        graph.WriteString(GraphName, Name);
        foreach (var (initName, value) in initializers)
        {
            graph.WriteMessage(GraphInitializer, w => WriteTensor(w, initName, value));
        }

        WriteOptional(graph, GraphDocString, DocString);
        foreach (var input in inputs)
        {
            graph.WriteMessage(GraphInput, w => WriteValueInfo(w, input));
        }

        foreach (var output in outputs)
        {
            graph.WriteMessage(GraphOutput, w => WriteValueInfo(w, output));
        }

        foreach (var valueInfo in valueInfos)
        {
            graph.WriteMessage(GraphValueInfo, w => WriteValueInfo(w, valueInfo));
        }
    }

    private void Define(string valueName)
    {
        ArgumentException.ThrowIfNullOrEmpty(valueName);
        if (!definedNames.Add(valueName))
        {
            throw new ArgumentException($"Graph '{Name}' already defines a value named '{valueName}'.", nameof(valueName));
        }
    }

    private static TypeDescription TensorType(TensorElementType elementType, long?[]? dims, string?[]? dimNames)
    {
        if (elementType == TensorElementType.Undefined)
        {
            throw new ArgumentException("A graph input or output needs an element type.", nameof(elementType));
        }

        if (dims is not null && dimNames is not null && dimNames.Length > dims.Length)
        {
            throw new ArgumentException($"{dimNames.Length} dimension names for {dims.Length} dimensions.", nameof(dimNames));
        }

        return new TypeDescription.Tensor(elementType, dims?.ToArray(), dimNames?.ToArray());
    }

    private static void WriteOptional(ProtoWriter writer, int field, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            writer.WriteString(field, value);
        }
    }

    private static void WriteNode(ProtoWriter w, Node node)
    {
        // NodeProto: input 1, output 2, name 3, op_type 4, attribute 5, domain 7.
        foreach (var input in node.Inputs)
        {
            w.WriteString(1, input);
        }

        foreach (var output in node.Outputs)
        {
            w.WriteString(2, output);
        }

        w.WriteString(3, node.Name);
        w.WriteString(4, node.OpType);
        foreach (var attribute in node.Attributes)
        {
            w.WriteMessage(5, a => WriteAttribute(a, attribute));
        }

        if (node.Domain.Length > 0)
        {
            w.WriteString(7, node.Domain);
        }
    }

    private static void WriteAttribute(ProtoWriter w, OnnxAttribute attribute)
    {
        // AttributeProto: name 1, f 2, i 3, s 4, t 5, g 6, floats 7, ints 8, strings 9, type 20.
        w.WriteString(1, attribute.Name);
        switch (attribute.Value)
        {
            case float f:
                w.WriteFloat(2, f);
                break;
            case long i:
                w.WriteInt64(3, i);
                break;
            case string s:
                w.WriteString(4, s);
                break;
            case OrtTensor t:
                w.WriteMessage(5, tw => WriteTensor(tw, null, t));
                break;
            case OnnxGraphBuilder g:
                w.WriteMessage(6, g.WriteGraph);
                break;
            case float[] floats:
                w.WritePackedFloat(7, floats);
                break;
            case long[] ints:
                w.WritePackedInt64(8, ints);
                break;
            case string[] strings:
                foreach (var s in strings)
                {
                    w.WriteString(9, s);
                }

                break;
            default:
                throw new InvalidOperationException($"Attribute '{attribute.Name}' has an unsupported value {attribute.Value.GetType().Name}.");
        }

        w.WriteInt32(20, (int)attribute.Type);
    }

    private static void WriteTensor(ProtoWriter w, string? tensorName, OrtTensor tensor)
    {
        // TensorProto: dims 1, data_type 2, string_data 6, name 8, raw_data 9.
        w.WritePackedInt64(1, tensor.Shape);
        w.WriteInt32(2, (int)tensor.ElementType);
        if (tensorName is not null)
        {
            w.WriteString(8, tensorName);
        }

        if (tensor.ElementType == TensorElementType.String)
        {
            foreach (var s in (string[])tensor.Data)
            {
                w.WriteString(6, s ?? string.Empty);
            }

            return;
        }

        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("raw_data is little-endian; big-endian hosts are not supported.");
        }

        // raw_data is the elements' fixed-width little-endian bytes (bools one byte each), i.e. the array's memory.
        var byteCount = checked((int)(tensor.ElementCount * tensor.ElementType.SizeOf()));
        var bytes = MemoryMarshal.CreateReadOnlySpan(ref MemoryMarshal.GetArrayDataReference(tensor.Data), byteCount);
        w.WriteBytes(9, bytes);
    }

    private static void WriteValueInfo(ProtoWriter w, ValueInfo value)
    {
        // ValueInfoProto: name 1, type 2.
        w.WriteString(1, value.Name);
        w.WriteMessage(2, t => WriteType(t, value.Type));
    }

    private static void WriteType(ProtoWriter w, TypeDescription type)
    {
        // TypeProto: tensor_type 1, sequence_type 4, map_type 5.
        switch (type)
        {
            case TypeDescription.Tensor tensor:
                w.WriteMessage(1, tw =>
                {
                    // TypeProto.Tensor: elem_type 1, shape 2.
                    tw.WriteInt32(1, (int)tensor.ElementType);
                    if (tensor.Dims is { } dims)
                    {
                        // TensorShapeProto: dim 1; Dimension: dim_value 1, dim_param 2.
                        tw.WriteMessage(2, sw =>
                        {
                            for (var i = 0; i < dims.Length; i++)
                            {
                                var dim = dims[i];
                                var param = tensor.DimNames is { } names && i < names.Length ? names[i] : null;
                                sw.WriteMessage(1, dw =>
                                {
                                    if (dim is { } fixedDim)
                                    {
                                        dw.WriteInt64(1, fixedDim);
                                    }
                                    else if (!string.IsNullOrEmpty(param))
                                    {
                                        dw.WriteString(2, param);
                                    }
                                });
                            }
                        });
                    }
                });
                break;
            case TypeDescription.SequenceOfMaps map:
                w.WriteMessage(4, sw => sw.WriteMessage(1, ew => ew.WriteMessage(5, mw =>
                {
                    // TypeProto.Map: key_type 1, value_type 2.
                    mw.WriteInt32(1, (int)map.KeyType);
                    mw.WriteMessage(2, vw => WriteType(vw, new TypeDescription.Tensor(map.ValueType, null, null)));
                })));
                break;
            default:
                throw new InvalidOperationException($"Unsupported type {type}.");
        }
    }

    private sealed record ValueInfo(string Name, TypeDescription Type);

    private sealed record Node(string OpType, string[] Inputs, string[] Outputs, string Name, string Domain, OnnxAttribute[] Attributes);

    private abstract record TypeDescription
    {
        public sealed record Tensor(TensorElementType ElementType, long?[]? Dims, string?[]? DimNames) : TypeDescription;

        public sealed record SequenceOfMaps(TensorElementType KeyType, TensorElementType ValueType) : TypeDescription;
    }
}
