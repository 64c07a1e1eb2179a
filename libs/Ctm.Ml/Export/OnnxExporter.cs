using System.Text.Json;
using Ctm.Onnx;
using Ctm.Onnx.Model;

namespace Ctm.Ml;

/// <summary>Options for <see cref="TrainedModel.ToOnnx"/>.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>The graph's name.</summary>
    public string GraphName { get; init; } = "ctm_tabular";

    /// <summary>The ModelProto's model_version (e.g. the registry's version number).</summary>
    public long ModelVersion { get; init; }

    /// <summary>Extra metadata_props entries (e.g. dataset, version id); they may not override the <c>ctm.*</c> keys.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>How features meet the graph's inputs; <see cref="OnnxInputLayout.Packed"/> unless an older reader needs one input per feature.</summary>
    public OnnxInputLayout Layout { get; init; } = OnnxInputLayout.Packed;
}

/// <summary>How an exported model takes its features.</summary>
public enum OnnxInputLayout
{
    /// <summary>
    /// Numeric features in one <c>tensor(float) [N,k]</c> input <see cref="OnnxExporter.NumericInput"/>, categorical ones in one
    /// <c>tensor(string) [N,c]</c> input <see cref="OnnxExporter.CategoricalInput"/>, columns in feature order; the columns'
    /// feature names are in the metadata entry <see cref="OnnxExporter.InputsMetadata"/>. One tensor per type instead of
    /// one per feature: ONNX Runtime marshals each input tensor on every call, which dominated one-row calls.
    /// </summary>
    Packed,

    /// <summary>One <c>[N,1]</c> input per feature, named after it (<c>ctm.format</c> 1, every version exported before the packed layout).</summary>
    PerFeature,
}

/// <summary>
/// Writes a model state as an ONNX model whose graph holds the whole preprocessing, so serving takes raw values.
/// </summary>
/// <remarks>
/// Interface of the exported model (opsets: ai.onnx 17, ai.onnx.ml 3):
/// <list type="bullet">
/// <item>Inputs (<see cref="OnnxInputLayout.Packed"/>, the default): <c>ctm/numeric</c> <c>tensor(float) [N,k]</c> holding the
/// numeric features, NaN = missing (imputed with the training mean), and <c>ctm/categorical</c> <c>tensor(string) [N,c]</c> holding
/// the categorical ones, empty string = missing (unseen, rare and missing values share the out-of-vocabulary row); columns in
/// feature order, named in <c>ctm.inputs</c>. With <see cref="OnnxInputLayout.PerFeature"/>: one <c>[N,1]</c> input per
/// feature, named after it.</item>
/// <item>Classification outputs: <c>label</c> <c>tensor(string) [N]</c>, the most probable class name (first one on a
/// tie), and <c>probabilities</c> <c>tensor(float) [N,C]</c>, columns in <c>ctm.classes</c> order (binary: [1−p, p],
/// p the probability of <c>ctm.classes[1]</c>).</item>
/// <item>Regression output: <c>prediction</c> <c>tensor(float) [N,1]</c>, in label units.</item>
/// <item>metadata_props: <c>ctm.task</c> (<see cref="ModelTask"/> name), <c>ctm.classes</c> (JSON array of strings,
/// empty for regression), <c>ctm.features</c> (JSON array of <c>{"name":…,"kind":"Numeric"|"Categorical"}</c> in
/// feature order), <c>ctm.label</c> (label column name), <c>ctm.format</c> (<c>2</c> packed, <c>1</c> per feature), and for the
/// packed layout <c>ctm.inputs</c> (JSON object: input name → array of the feature names of its columns).</item>
/// </list>
/// Graph: numeric inputs → Concat (per-feature layout only) → (x − mean) / std → Where(IsNaN, 0) → MatMul; each categorical input →
/// column (Split of the packed input) → LabelEncoder (string → row, default = OOV row) → Gather of first-layer weight rows; Sum with the bias; then
/// Relu/Gemm per hidden layer; Sigmoid or Softmax (classification) or × std + mean (regression).
/// </remarks>
public static class OnnxExporter
{
    /// <summary>Output name of the predicted class.</summary>
    public const string LabelOutput = "label";

    /// <summary>Output name of the class probabilities.</summary>
    public const string ProbabilitiesOutput = "probabilities";

    /// <summary>Output name of the regression prediction.</summary>
    public const string PredictionOutput = "prediction";

    /// <summary>The packed layout's numeric input, <c>tensor(float) [N,k]</c>.</summary>
    public const string NumericInput = "ctm/numeric";

    /// <summary>The packed layout's categorical input, <c>tensor(string) [N,c]</c>.</summary>
    public const string CategoricalInput = "ctm/categorical";

    /// <summary>Metadata key of the packed layout's column names: a JSON object, input name → feature names of its columns.</summary>
    public const string InputsMetadata = "ctm.inputs";

    /// <summary>Serializes the model as ONNX (see the remarks for its interface).</summary>
    /// <exception cref="ArgumentException">A feature's name collides with an output name.</exception>
    public static byte[] Export(ModelState state, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        options ??= new OnnxExportOptions();
        var g = new OnnxGraphBuilder(options.GraphName);
        var packed = options.Layout == OnnxInputLayout.Packed;
        string[] outputs = state.Task == ModelTask.Regression ? [PredictionOutput] : [LabelOutput, ProbabilitiesOutput];
        foreach (var f in state.Features)
        {
            if (outputs.Contains(f.Name) || f.Name.StartsWith("ctm/", StringComparison.Ordinal))
            {
                throw new ArgumentException($"Feature name '{f.Name}' collides with a name the exported graph uses.", nameof(state));
            }

            if (!packed)
            {
                g.AddInput(f.Name, f.Kind == FeatureKind.Numeric ? TensorElementType.Float : TensorElementType.String, [null, 1], ["N", null]);
            }
        }

        var numericNames = state.Features.Where(f => f.Kind == FeatureKind.Numeric).Select(f => f.Name).ToArray();
        var categoricalNames = state.Features.Where(f => f.Kind == FeatureKind.Categorical).Select(f => f.Name).ToArray();
        if (packed && numericNames.Length > 0)
        {
            g.AddInput(NumericInput, TensorElementType.Float, [null, numericNames.Length], ["N", null]);
        }

        if (packed && categoricalNames.Length > 0)
        {
            g.AddInput(CategoricalInput, TensorElementType.String, [null, categoricalNames.Length], ["N", null]);
        }

        var h = state.LayerSizes[1];
        var nNum = state.NumericCount;
        var w0 = state.Weights[0];
        var terms = new List<string>();
        if (nNum > 0)
        {
            g.AddInitializer("ctm/mean", state.NumericMeans, [nNum]);
            g.AddInitializer("ctm/std", state.NumericStds, [nNum]);
            g.AddInitializer("ctm/zero", [0f], []);
            g.AddInitializer("ctm/w0_numeric", w0.AsSpan(0, nNum * h).ToArray(), [nNum, h]);
            var raw = NumericInput;
            if (!packed)
            {
                raw = "ctm/numeric_raw";
                g.AddNode("Concat", numericNames, [raw], attributes: [OnnxAttribute.Int("axis", 1)]);
            }

            g.AddNode("IsNaN", [raw], ["ctm/numeric_missing"]);
            g.AddNode("Sub", [raw, "ctm/mean"], ["ctm/numeric_centered"]);
            g.AddNode("Div", ["ctm/numeric_centered", "ctm/std"], ["ctm/numeric_scaled"]);
            g.AddNode("Where", ["ctm/numeric_missing", "ctm/zero", "ctm/numeric_scaled"], ["ctm/numeric_imputed"]);
            g.AddNode("MatMul", ["ctm/numeric_imputed", "ctm/w0_numeric"], ["ctm/layer0_numeric"]);
            terms.Add("ctm/layer0_numeric");
        }

        if (state.CategoricalCount > 0)
        {
            g.AddInitializer("ctm/flat", [-1L], [1]);
            var offsets = state.CategoricalOffsets();
            var columns = !packed ? categoricalNames
                : categoricalNames.Length == 1 ? [CategoricalInput]
                : [.. categoricalNames.Select((_, i) => $"ctm/categorical_{i}")];
            if (packed && categoricalNames.Length > 1)
            {
                // Split along the columns (equal parts of one): each column then goes through its own vocabulary, and the
                // Predictor's static path still sees every column consumed only by a LabelEncoder.
                g.AddNode("Split", [CategoricalInput], columns, attributes: [OnnxAttribute.Int("axis", 1)]);
            }

            var c = 0;
            foreach (var f in state.Features.Where(f => f.Kind == FeatureKind.Categorical))
            {
                var vocabulary = state.Vocabularies[c];
                var rows = vocabulary.Length + 1;
                var block = $"ctm/w0_{c}";
                g.AddInitializer(block, w0.AsSpan(offsets[c] * h, rows * h).ToArray(), [rows, h]);

                // The empty string (missing) is listed explicitly so the key list is never empty.
                g.AddNode("LabelEncoder", [columns[c]], [$"ctm/index_{c}"], domain: "ai.onnx.ml", attributes:
                [
                    OnnxAttribute.Strings("keys_strings", [.. vocabulary, ""]),
                    OnnxAttribute.Ints("values_int64s", [.. Enumerable.Range(0, rows).Select(i => (long)i)]),
                    OnnxAttribute.Int("default_int64", vocabulary.Length),
                ]);
                g.AddNode("Reshape", [$"ctm/index_{c}", "ctm/flat"], [$"ctm/index_flat_{c}"]);
                g.AddNode("Gather", [block, $"ctm/index_flat_{c}"], [$"ctm/embedding_{c}"], attributes: [OnnxAttribute.Int("axis", 0)]);
                terms.Add($"ctm/embedding_{c}");
                c++;
            }
        }

        g.AddInitializer("ctm/b0", state.Biases[0], [h]);
        terms.Add("ctm/b0");
        var current = "ctm/layer0";
        g.AddNode("Sum", terms, [current]);
        for (var l = 1; l < state.Weights.Length; l++)
        {
            g.AddNode("Relu", [current], [$"ctm/hidden{l - 1}"]);
            g.AddInitializer($"ctm/w{l}", state.Weights[l], [state.LayerSizes[l], state.LayerSizes[l + 1]]);
            g.AddInitializer($"ctm/b{l}", state.Biases[l], [state.LayerSizes[l + 1]]);
            g.AddNode("Gemm", [$"ctm/hidden{l - 1}", $"ctm/w{l}", $"ctm/b{l}"], [$"ctm/layer{l}"]);
            current = $"ctm/layer{l}";
        }

        switch (state.Task)
        {
            case ModelTask.Regression:
                g.AddInitializer("ctm/label_std", [state.LabelStd], [1]);
                g.AddInitializer("ctm/label_mean", [state.LabelMean], [1]);
                g.AddNode("Mul", [current, "ctm/label_std"], ["ctm/prediction_scaled"]);
                g.AddNode("Add", ["ctm/prediction_scaled", "ctm/label_mean"], [PredictionOutput]);
                g.AddOutput(PredictionOutput, TensorElementType.Float, [null, 1], ["N", null]);
                break;
            default:
                if (state.Task == ModelTask.BinaryClassification)
                {
                    g.AddInitializer("ctm/one", [1f], [1]);
                    g.AddNode("Sigmoid", [current], ["ctm/positive"]);
                    g.AddNode("Sub", ["ctm/one", "ctm/positive"], ["ctm/negative"]);
                    g.AddNode("Concat", ["ctm/negative", "ctm/positive"], [ProbabilitiesOutput], attributes: [OnnxAttribute.Int("axis", 1)]);
                }
                else
                {
                    g.AddNode("Softmax", [current], [ProbabilitiesOutput], attributes: [OnnxAttribute.Int("axis", 1)]);
                }

                g.AddNode("ArgMax", [ProbabilitiesOutput], ["ctm/class_index"], attributes: [OnnxAttribute.Int("axis", 1), OnnxAttribute.Int("keepdims", 0)]);
                g.AddNode("LabelEncoder", ["ctm/class_index"], [LabelOutput], domain: "ai.onnx.ml", attributes:
                [
                    OnnxAttribute.Ints("keys_int64s", [.. Enumerable.Range(0, state.Classes.Length).Select(i => (long)i)]),
                    OnnxAttribute.Strings("values_strings", state.Classes),
                    OnnxAttribute.String("default_string", ""),
                ]);
                g.AddOutput(LabelOutput, TensorElementType.String, [null], ["N"]);
                g.AddOutput(ProbabilitiesOutput, TensorElementType.Float, [null, state.Classes.Length], ["N", null]);
                break;
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in options.Metadata ?? new Dictionary<string, string>())
        {
            metadata[key] = value;
        }

        metadata["ctm.format"] = packed ? "2" : "1";
        if (packed)
        {
            var inputs = new Dictionary<string, string[]>(StringComparer.Ordinal);
            if (numericNames.Length > 0)
            {
                inputs[NumericInput] = numericNames;
            }

            if (categoricalNames.Length > 0)
            {
                inputs[CategoricalInput] = categoricalNames;
            }

            metadata[InputsMetadata] = JsonSerializer.Serialize(inputs);
        }

        metadata["ctm.task"] = state.Task.ToString();
        metadata["ctm.classes"] = JsonSerializer.Serialize(state.Classes);
        metadata["ctm.features"] = JsonSerializer.Serialize(state.Features.Select(f => new FeatureJson(f.Name, f.Kind.ToString())));
        metadata["ctm.label"] = state.LabelName;
        return g.Build(new OnnxModelInfo
        {
            Opsets = { [""] = 17, ["ai.onnx.ml"] = 3 },
            ProducerName = "ctm",
            ModelVersion = options.ModelVersion,
            Metadata = metadata,
        });
    }

    private sealed record FeatureJson(
        [property: System.Text.Json.Serialization.JsonPropertyName("name")] string Name,
        [property: System.Text.Json.Serialization.JsonPropertyName("kind")] string Kind);
}
