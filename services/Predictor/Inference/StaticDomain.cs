using Ctm.Onnx;
using Ctm.Onnx.Model;

namespace Ctm.Predictor.Inference;

/// <summary>
/// The values an input can take that the graph tells apart: a LabelEncoder's keys plus one out-of-vocabulary value
/// standing for every other value (they all map to the encoder's default), or false/true for a bool input.
/// </summary>
public sealed class StaticDomain
{
    private readonly Dictionary<string, int>? _strings;
    private readonly Dictionary<float, int>? _floats;
    private readonly Dictionary<long, int>? _integers;
    private readonly string[]? _stringValues;
    private readonly float[]? _floatValues;
    private readonly long[]? _integerValues;

    private StaticDomain(TensorElementType type, int size)
    {
        Type = type;
        Size = size;
    }

    private StaticDomain(string[] keys)
        : this(TensorElementType.String, keys.Length + 1)
    {
        _strings = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var k in keys)
        {
            _strings.TryAdd(k, _strings.Count);
        }

        var oov = "\u0001oov";
        while (_strings.ContainsKey(oov))
        {
            oov += "\u0001";
        }

        _stringValues = [.. _strings.Keys, oov];
        Size = _stringValues.Length;
    }

    private StaticDomain(float[] keys)
        : this(TensorElementType.Float, 0)
    {
        _floats = [];
        foreach (var k in keys.Where(k => !float.IsNaN(k)))
        {
            _floats.TryAdd(k, _floats.Count);
        }

        _floatValues = [.. _floats.Keys, float.NaN]; // NaN equals no key: the encoder's default
        Size = _floatValues.Length;
    }

    private StaticDomain(long[] keys)
        : this(TensorElementType.Int64, 0)
    {
        _integers = [];
        foreach (var k in keys)
        {
            _integers.TryAdd(k, _integers.Count);
        }

        var oov = long.MinValue;
        while (_integers.ContainsKey(oov))
        {
            oov++;
        }

        _integerValues = [.. _integers.Keys, oov];
        Size = _integerValues.Length;
    }

    public TensorElementType Type { get; }

    /// <summary>Distinct values, the out-of-vocabulary one included.</summary>
    public int Size { get; private set; }

    public static StaticDomain Boolean() => new(TensorElementType.Bool, 2);

    /// <summary>Index of the row's value in column <paramref name="offset"/> of <paramref name="input"/> in this domain (unseen values share the last index).</summary>
    public int IndexOf(RowBlock block, int row, InputSpec input, int offset = 0) => Type switch
    {
        TensorElementType.String => _strings!.TryGetValue(block.Text(row, input, offset), out var i) ? i : Size - 1,
        TensorElementType.Float => _floats!.TryGetValue((float)block.Number(row, input, offset), out var f) ? f : Size - 1,
        TensorElementType.Int64 => _integers!.TryGetValue(block.Integer(row, input, offset), out var l) ? l : Size - 1,
        _ => block.Number(row, input, offset) != 0 ? 1 : 0,
    };

    /// <summary>Sets the row's cell (column <paramref name="offset"/> of <paramref name="input"/>) to the domain's value number <paramref name="index"/> (to enumerate the table).</summary>
    public void Fill(RowBlock block, int row, InputSpec input, int index, int offset = 0)
    {
        var s = block.Signature;
        switch (Type)
        {
            case TensorElementType.String: block.Texts[(row * s.TextWidth) + input.Slot + offset] = _stringValues![index]; break;
            case TensorElementType.Float: block.Numbers[(row * s.NumberWidth) + input.Slot + offset] = _floatValues![index]; break;
            case TensorElementType.Int64: block.Integers[(row * s.IntegerWidth) + input.Slot + offset] = _integerValues![index]; break;
            default: block.Numbers[(row * s.NumberWidth) + input.Slot + offset] = index; break;
        }
    }

    /// <summary>
    /// Finds the static domain of every input the graph only looks up: bool inputs, and string / float / int64 inputs
    /// whose only consumers are ai.onnx.ml LabelEncoders (our exporter's vocabularies). A packed input of several columns
    /// (our exporter's <c>[N, c]</c> categorical input) has them when its only consumer is a Split along the columns whose
    /// every part is consumed only by LabelEncoders. Other inputs stay free.
    /// </summary>
    public static void Analyze(ModelSignature signature, IReadOnlyList<OnnxGraphNode> nodes)
    {
        foreach (var input in signature.Inputs)
        {
            input.Domains = input.Type switch
            {
                TensorElementType.Bool when input.Width == 1 => [Boolean()],
                TensorElementType.String or TensorElementType.Float or TensorElementType.Int64 when input.Width == 1
                    => FromEncoders(input.Type, input.Name, nodes) is { } domain ? [domain] : null,
                TensorElementType.String or TensorElementType.Float or TensorElementType.Int64 => FromSplit(input, nodes),
                _ => null,
            };
        }
    }

    private static StaticDomain[]? FromSplit(InputSpec input, IReadOnlyList<OnnxGraphNode> nodes)
    {
        var consumers = nodes.Where(n => n.Inputs.Contains(input.Name)).ToList();
        if (consumers is not [{ OpType: "Split", Domain: "" or "ai.onnx" } split] || split.Inputs.Count != 1 || split.Outputs.Count != input.Width
            || !split.Attributes.TryGetValue("axis", out var axis) || axis.Int != 1)
        {
            return null;
        }

        var domains = new StaticDomain[input.Width];
        for (var c = 0; c < domains.Length; c++)
        {
            if (FromEncoders(input.Type, split.Outputs[c], nodes) is not { } domain)
            {
                return null;
            }

            domains[c] = domain;
        }

        return domains;
    }

    private static StaticDomain? FromEncoders(TensorElementType type, string tensor, IReadOnlyList<OnnxGraphNode> nodes)
    {
        var consumers = nodes.Where(n => n.Inputs.Contains(tensor)).ToList();
        if (consumers.Count == 0 || !consumers.All(n => n.OpType == "LabelEncoder" && n.Domain == "ai.onnx.ml" && n.Inputs.Count == 1))
        {
            return null;
        }

        switch (type)
        {
            case TensorElementType.String when consumers.All(n => n.Attributes.TryGetValue("keys_strings", out var a) && a.Strings.Count > 0):
                return new StaticDomain([.. consumers.SelectMany(n => n.Attributes["keys_strings"].Strings)]);
            case TensorElementType.Float when consumers.All(n => n.Attributes.TryGetValue("keys_floats", out var a) && a.Floats.Count > 0):
                return new StaticDomain([.. consumers.SelectMany(n => n.Attributes["keys_floats"].Floats)]);
            case TensorElementType.Int64 when consumers.All(n => n.Attributes.TryGetValue("keys_int64s", out var a) && a.Ints.Count > 0):
                return new StaticDomain([.. consumers.SelectMany(n => n.Attributes["keys_int64s"].Ints)]);
            default:
                return null;
        }
    }
}

/// <summary>Every prediction of a model whose inputs all have static domains, computed at load; answers by index.</summary>
public sealed class StaticTable
{
    private readonly Column[] _columns;
    private readonly Prediction[] _entries;

    private StaticTable(Column[] columns, Prediction[] entries)
    {
        _columns = columns;
        _entries = entries;
    }

    public int Size => _entries.Length;

    public Prediction Lookup(RowBlock block, int row)
    {
        var index = 0;
        foreach (var c in _columns)
        {
            index += c.Domain.IndexOf(block, row, c.Input, c.Offset) * c.Stride;
        }

        return _entries[index];
    }

    /// <summary>Runs every combination through the model (in chunks) and renders each answer's JSON once.</summary>
    public static StaticTable Build(ModelSignature signature, BatchExecutor executor, int combinations, int chunk = 4096)
    {
        var dimensions = signature.Inputs.SelectMany(i => i.Domains!.Select((d, offset) => (Input: i, Offset: offset, Domain: d))).ToArray();
        var columns = new Column[dimensions.Length];
        var stride = 1;
        for (var i = dimensions.Length - 1; i >= 0; i--)
        {
            columns[i] = new Column(dimensions[i].Input, dimensions[i].Offset, dimensions[i].Domain, stride);
            stride *= dimensions[i].Domain.Size;
        }

        var entries = new Prediction[combinations];
        var scratch = new BatchScratch();
        for (var start = 0; start < combinations; start += chunk)
        {
            var count = Math.Min(chunk, combinations - start);
            var block = new RowBlock(signature, count);
            for (var r = 0; r < count; r++)
            {
                var row = block.AddEmptyRow();
                var combination = start + r;
                foreach (var c in columns)
                {
                    c.Domain.Fill(block, row, c.Input, combination / c.Stride % c.Domain.Size, c.Offset);
                }
            }

            var item = new WorkItem(block, null);
            executor.Execute([item], scratch);
            for (var r = 0; r < count; r++)
            {
                _ = item.Results[r].TfJson;
                entries[start + r] = item.Results[r];
            }
        }

        return new StaticTable(columns, entries);
    }

    private sealed record Column(InputSpec Input, int Offset, StaticDomain Domain, int Stride);
}
