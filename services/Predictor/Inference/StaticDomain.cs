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

    /// <summary>Index of the row's value in this domain (unseen values share the last index).</summary>
    public int IndexOf(RowBlock block, int row, InputSpec input) => Type switch
    {
        TensorElementType.String => _strings!.TryGetValue(block.Text(row, input), out var i) ? i : Size - 1,
        TensorElementType.Float => _floats!.TryGetValue((float)block.Number(row, input), out var f) ? f : Size - 1,
        TensorElementType.Int64 => _integers!.TryGetValue(block.Integer(row, input), out var l) ? l : Size - 1,
        _ => block.Number(row, input) != 0 ? 1 : 0,
    };

    /// <summary>Sets the row's cell to the domain's value number <paramref name="index"/> (to enumerate the table).</summary>
    public void Fill(RowBlock block, int row, InputSpec input, int index)
    {
        var s = block.Signature;
        switch (Type)
        {
            case TensorElementType.String: block.Texts[(row * s.TextWidth) + input.Slot] = _stringValues![index]; break;
            case TensorElementType.Float: block.Numbers[(row * s.NumberWidth) + input.Slot] = _floatValues![index]; break;
            case TensorElementType.Int64: block.Integers[(row * s.IntegerWidth) + input.Slot] = _integerValues![index]; break;
            default: block.Numbers[(row * s.NumberWidth) + input.Slot] = index; break;
        }
    }

    /// <summary>
    /// Finds the static domain of every input the graph only looks up: bool inputs, and string / float / int64 inputs
    /// whose only consumers are ai.onnx.ml LabelEncoders (our exporter's vocabularies). Other inputs stay free.
    /// </summary>
    public static void Analyze(ModelSignature signature, IReadOnlyList<OnnxGraphNode> nodes)
    {
        foreach (var input in signature.Inputs)
        {
            input.Domain = input.Width != 1 ? null : input.Type switch
            {
                TensorElementType.Bool => Boolean(),
                TensorElementType.String or TensorElementType.Float or TensorElementType.Int64 => FromEncoders(input, nodes),
                _ => null,
            };
        }
    }

    private static StaticDomain? FromEncoders(InputSpec input, IReadOnlyList<OnnxGraphNode> nodes)
    {
        var consumers = nodes.Where(n => n.Inputs.Contains(input.Name)).ToList();
        if (consumers.Count == 0 || !consumers.All(n => n.OpType == "LabelEncoder" && n.Domain == "ai.onnx.ml" && n.Inputs.Count == 1))
        {
            return null;
        }

        switch (input.Type)
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
    private readonly InputSpec[] _inputs;
    private readonly int[] _strides;
    private readonly Prediction[] _entries;

    private StaticTable(InputSpec[] inputs, int[] strides, Prediction[] entries)
    {
        _inputs = inputs;
        _strides = strides;
        _entries = entries;
    }

    public int Size => _entries.Length;

    public Prediction Lookup(RowBlock block, int row)
    {
        var index = 0;
        for (var i = 0; i < _inputs.Length; i++)
        {
            index += _inputs[i].Domain!.IndexOf(block, row, _inputs[i]) * _strides[i];
        }

        return _entries[index];
    }

    /// <summary>Runs every combination through the model (in chunks) and renders each answer's JSON once.</summary>
    public static StaticTable Build(ModelSignature signature, BatchExecutor executor, int combinations, int chunk = 4096)
    {
        var inputs = signature.Inputs.ToArray();
        var strides = new int[inputs.Length];
        var stride = 1;
        for (var i = inputs.Length - 1; i >= 0; i--)
        {
            strides[i] = stride;
            stride *= inputs[i].Domain!.Size;
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
                for (var i = 0; i < inputs.Length; i++)
                {
                    inputs[i].Domain!.Fill(block, row, inputs[i], combination / strides[i] % inputs[i].Domain!.Size);
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

        return new StaticTable(inputs, strides, entries);
    }
}
