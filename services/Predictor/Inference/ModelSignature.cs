using System.Text.Json;
using Ctm.Onnx;

namespace Ctm.Predictor.Inference;

/// <summary>How a row's cells of one input are held in a <see cref="RowBlock"/>.</summary>
public enum CellKind
{
    /// <summary>float, double, bool (as 0/1).</summary>
    Number,

    /// <summary>int64, int32.</summary>
    Integer,

    /// <summary>string.</summary>
    Text,
}

/// <summary>One model input as the predictor sees it: one value per row (width 1) or a fixed-width row vector.</summary>
public sealed class InputSpec(OnnxNodeInfo node, CellKind kind, int slot, int width, bool flat)
{
    public OnnxNodeInfo Node { get; } = node;
    public string Name => Node.Name;
    public TensorElementType Type => Node.ElementType;
    public CellKind Kind { get; } = kind;

    /// <summary>Offset of this input's cells within a row of its kind's array.</summary>
    public int Slot { get; } = slot;

    /// <summary>Values per row (1 for a feature column).</summary>
    public int Width { get; } = width;

    /// <summary>Shape [N] rather than [N, width].</summary>
    public bool Flat { get; } = flat;

    /// <summary>
    /// The instance fields that feed this input when they are not named after it (an uploaded model's input mapping:
    /// one field per column), or null.
    /// </summary>
    public string[]? Fields { get; set; }

    /// <summary>Whether <see cref="Fields"/> come from the model's own column names (a packed Ctm export), not an upload's mapping.</summary>
    public bool ColumnsNamedByModel { get; set; }

    /// <summary>The name of column <paramref name="c"/> in instances and statistics.</summary>
    public string FieldName(int c) => Fields?[c] ?? (Width == 1 ? Name : $"{Name}[{c}]");

    /// <summary>The finite set of values the graph distinguishes in each column, when every column has one (the static path).</summary>
    public StaticDomain[]? Domains { get; set; }

    /// <summary>The static domain of a one-column input, or null.</summary>
    public StaticDomain? Domain => Domains is [var only] ? only : null;

    public string OipDatatype => OipTypes.Name(Type);
}

/// <summary>Column <paramref name="Offset"/> of <paramref name="Input"/>, fed by the instance field named <paramref name="Utf8Name"/>.</summary>
public sealed record NamedColumn(InputSpec Input, int Offset, byte[] Utf8Name);

/// <summary>One model output: its values per row (width), and how they are written.</summary>
public sealed class OutputSpec(OnnxNodeInfo node, int width, JsonEncodedText jsonName)
{
    public OnnxNodeInfo Node { get; } = node;
    public string Name => Node.Name;
    public TensorElementType Type => Node.ElementType;

    /// <summary>Values per row (product of the non-batch dimensions; -1 until a run tells).</summary>
    public int Width { get; set; } = width;
    public JsonEncodedText JsonName { get; } = jsonName;
}

/// <summary>
/// The interface of a served model: its tabular inputs (one per feature, or one matrix input), its outputs, and for our
/// own classifiers the class names (predictions are written as <c>label</c> + <c>probabilities</c> keyed by class).
/// </summary>
public sealed class ModelSignature
{
    private ModelSignature(InputSpec[] inputs, OutputSpec[] outputs, string[]? classes, int numbers, int integers, int texts)
    {
        Inputs = inputs;
        Outputs = outputs;
        Classes = classes;
        NumberWidth = numbers;
        IntegerWidth = integers;
        TextWidth = texts;
        LabelIndex = Array.FindIndex(outputs, o => o.Name == "label" && o.Type == TensorElementType.String);
        ProbabilitiesIndex = Array.FindIndex(outputs, o => o.Name == "probabilities" && o.Type == TensorElementType.Float);
        IsClassifier = LabelIndex >= 0 && ProbabilitiesIndex >= 0 && classes is { Length: > 0 };
        EncodedClasses = classes?.Select(c => JsonEncodedText.Encode(c)).ToArray();

        // The float path needs float inputs and float outputs; our classifiers' string label is the first arg-max of the
        // probabilities (what the graph's ArgMax + LabelEncoder compute), so it is derived instead of asked for.
        FloatPath = inputs.All(i => i.Type == TensorElementType.Float)
            && outputs.All(o => (o.Type == TensorElementType.Float && o.Width > 0) || (IsClassifier && o.Name == "label"));
    }

    public IReadOnlyList<InputSpec> Inputs { get; }
    public IReadOnlyList<OutputSpec> Outputs { get; }
    public string[]? Classes { get; }
    public JsonEncodedText[]? EncodedClasses { get; }
    public bool IsClassifier { get; }
    public int LabelIndex { get; }
    public int ProbabilitiesIndex { get; }
    public bool FloatPath { get; }

    /// <summary>
    /// Every column by the instance field that feeds it, in input and column order (what <see cref="RowBlock"/> expects
    /// first); set when an input mapping applies, which may rename them.
    /// </summary>
    public NamedColumn[] Columns { get; private set; } = [];

    /// <summary>Whether a model input is named like the example key field (then <c>key</c> is a feature, not a key).</summary>
    public bool HasKeyInput { get; private set; }

    /// <summary>Cells per row of each kind.</summary>
    public int NumberWidth { get; }
    public int IntegerWidth { get; }
    public int TextWidth { get; }

    /// <summary>A single [N, k] input (k ≠ 1): instances are arrays of k values.</summary>
    public bool IsMatrix => Inputs.Count == 1 && Inputs[0].Width != 1;

    /// <summary>The row interface of <paramref name="session"/>'s model, or null (and why) when requests must run on whole tensors.</summary>
    public static ModelSignature? TryFrom(OnnxSession session, out string? reason)
    {
        reason = OnnxServingLoader.RowBatchingProblem(session.Inputs, session.Outputs);
        if (reason is null && session.Inputs.FirstOrDefault(i => Kind(i.ElementType) is null) is { } other)
        {
            reason = $"input {other} has a type the row path does not hold";
        }

        return reason is null ? From(session) : null;
    }

    /// <exception cref="PredictionInputException">An input or output cannot be served (e.g. an image tensor, a sequence of maps).</exception>
    public static ModelSignature From(OnnxSession session)
    {
        var inputs = new List<InputSpec>();
        int numbers = 0, integers = 0, texts = 0;
        foreach (var node in session.Inputs)
        {
            if (!node.IsTensor || node.Rank is < 1 or > 2 || (node.Rank == 2 && node.Shape[1] < 0))
            {
                throw new PredictionInputException($"input '{node.Name}' ({node}) is not tabular: expected [N] or [N, k] with a fixed k");
            }

            var width = node.Rank == 1 ? 1 : (int)Math.Max(1, node.Shape[1]);
            var kind = Kind(node.ElementType) ?? throw new PredictionInputException($"input '{node.Name}' has element type {node.ElementType}, which is not served");
            var slot = kind switch { CellKind.Number => numbers, CellKind.Integer => integers, _ => texts };
            switch (kind)
            {
                case CellKind.Number: numbers += width; break;
                case CellKind.Integer: integers += width; break;
                default: texts += width; break;
            }

            inputs.Add(new InputSpec(node, kind, slot, width, node.Rank == 1));
        }

        var outputs = new List<OutputSpec>();
        foreach (var node in session.Outputs.Where(o => o.IsTensor))
        {
            var width = 1;
            foreach (var d in node.Shape.Skip(1))
            {
                width = d < 0 || width < 0 ? -1 : width * (int)d;
            }

            outputs.Add(new OutputSpec(node, width, JsonEncodedText.Encode(node.Name)));
        }

        if (outputs.Count == 0)
        {
            throw new PredictionInputException("the model has no tensor outputs");
        }

        string[]? classes = null;
        if (session.Metadata.TryGetValue("ctm.classes", out var json))
        {
            try
            {
                classes = JsonSerializer.Deserialize<string[]>(json);
            }
            catch (JsonException)
            {
                classes = null;
            }
        }

        ApplyColumnNames(inputs, session.Metadata);
        var signature = new ModelSignature([.. inputs], [.. outputs], classes, numbers, integers, texts);
        signature.NameColumns();
        return signature;
    }

    /// <summary>Metadata key of a packed model's column names (Ctm's exporter, <c>ctm.format</c> 2): input name → feature name of each column.</summary>
    public const string ColumnNamesMetadata = "ctm.inputs";

    /// <summary>
    /// A model that packs features into one tensor per type names each column in its metadata; instances and statistics
    /// then keep using feature names, as with one input per feature.
    /// </summary>
    private static void ApplyColumnNames(List<InputSpec> inputs, IReadOnlyDictionary<string, string> metadata)
    {
        if (!metadata.TryGetValue(ColumnNamesMetadata, out var json))
        {
            return;
        }

        Dictionary<string, string[]>? columns;
        try
        {
            columns = JsonSerializer.Deserialize<Dictionary<string, string[]>>(json);
        }
        catch (JsonException e)
        {
            throw new PredictionInputException($"the model's metadata '{ColumnNamesMetadata}' is not a JSON object of input name → column names: {e.Message}");
        }

        foreach (var input in inputs)
        {
            if (columns?.GetValueOrDefault(input.Name) is { } names)
            {
                input.Fields = names.Length == input.Width
                    ? names
                    : throw new PredictionInputException($"the model's metadata '{ColumnNamesMetadata}' names {names.Length} column(s) for '{input.Name}', which has {input.Width}");
                input.ColumnsNamedByModel = true;
            }
        }
    }

    private static CellKind? Kind(TensorElementType type) => type switch
    {
        TensorElementType.Float or TensorElementType.Double or TensorElementType.Bool => CellKind.Number,
        TensorElementType.Int64 or TensorElementType.Int32 => CellKind.Integer,
        TensorElementType.String => CellKind.Text,
        _ => null,
    };

    /// <summary>Applies an input mapping (model input → comma-separated instance fields, one per column).</summary>
    /// <exception cref="PredictionInputException">The mapping names an unknown input or the wrong number of fields.</exception>
    public void ApplyMapping(IReadOnlyDictionary<string, string>? mapping)
    {
        foreach (var (inputName, fields) in mapping ?? new Dictionary<string, string>())
        {
            var input = Inputs.FirstOrDefault(i => i.Name == inputName) ?? throw new PredictionInputException($"the input mapping names '{inputName}', which the model does not have");
            var names = fields.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            input.Fields = names.Length == input.Width ? names : throw new PredictionInputException($"the input mapping gives {names.Length} field(s) for '{inputName}', which has {input.Width} column(s)");
            input.ColumnsNamedByModel = false;
        }

        NameColumns();
    }

    private void NameColumns()
    {
        HasKeyInput = Inputs.Any(i => i.Name == RowBlock.KeyField);
        // Only for instances keyed by field: a column named like the key field would be ambiguous, and a multi-column input
        // without field names takes its values as one array (the general path does both).
        Columns = Inputs.All(i => i.Width == 1 || i.Fields is not null) && !Inputs.Any(i => i.Fields?.Contains(RowBlock.KeyField) ?? false)
            ? [.. Inputs.SelectMany(i => Enumerable.Range(0, i.Width).Select(c => new NamedColumn(i, c, System.Text.Encoding.UTF8.GetBytes(i.Fields?[c] ?? i.Name))))]
            : [];
    }

    /// <summary>Combinations of the inputs' static domains, or null if some input is free (the dynamic path).</summary>
    public long? StaticCombinations()
    {
        long product = 1;
        foreach (var input in Inputs)
        {
            if (input.Domains is null)
            {
                return null;
            }

            foreach (var domain in input.Domains)
            {
                product = checked(product * domain.Size);
                if (product > int.MaxValue)
                {
                    return product;
                }
            }
        }

        return Inputs.Count == 0 ? null : product;
    }
}

/// <summary>Open Inference Protocol datatype names.</summary>
public static class OipTypes
{
    public static string Name(TensorElementType type) => type switch
    {
        TensorElementType.Float => "FP32",
        TensorElementType.Double => "FP64",
        TensorElementType.Float16 => "FP16",
        TensorElementType.Int64 => "INT64",
        TensorElementType.Int32 => "INT32",
        TensorElementType.Int16 => "INT16",
        TensorElementType.Int8 => "INT8",
        TensorElementType.UInt8 => "UINT8",
        TensorElementType.UInt16 => "UINT16",
        TensorElementType.UInt32 => "UINT32",
        TensorElementType.UInt64 => "UINT64",
        TensorElementType.Bool => "BOOL",
        TensorElementType.String => "BYTES",
        _ => type.ToString().ToUpperInvariant(),
    };
}
