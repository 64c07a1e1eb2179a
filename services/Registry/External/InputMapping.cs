using Ctm.Contracts;
using Ctm.Onnx;
using Ctm.ServiceDefaults.Storage;

namespace Ctm.Registry.External;

/// <summary>A dataset feature as the schema declares it.</summary>
public sealed record FeatureInfo(string Name, ColumnKind Kind);

/// <summary>
/// Checks that every input of an uploaded model can be fed from the dataset's features. Pure (given the model's
/// inputs), so each refusal reason is unit-tested.
/// </summary>
public static class InputMapping
{
    private static readonly HashSet<TensorElementType> Numeric =
    [
        // What the Predictor's row path holds (ModelSignature); other types are served as whole tensors, unmapped.
        TensorElementType.Float, TensorElementType.Double, TensorElementType.Int32, TensorElementType.Int64,
    ];

    /// <summary>
    /// The effective mapping (model input → feature, or comma-separated features for a matrix input), or the reason
    /// the inputs cannot be mapped. An input the mapping does not name is fed by the feature of the same name.
    /// </summary>
    /// <summary>
    /// The mapping asked for, completed from a Ctm export's own column names: its packed inputs (<c>[N,k]</c> numeric,
    /// <c>[N,c]</c> categorical) name the feature of each column in the <c>ctm.inputs</c> metadata (a JSON object: input name
    /// → feature names). An input the upload maps explicitly keeps that mapping.
    /// </summary>
    public static IReadOnlyDictionary<string, string> WithNamedColumns(IReadOnlyDictionary<string, string> requested, IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(requested);
        ArgumentNullException.ThrowIfNull(metadata);
        if (!metadata.TryGetValue("ctm.inputs", out var json))
        {
            return requested;
        }

        Dictionary<string, string[]>? columns;
        try
        {
            columns = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string[]>>(json);
        }
        catch (System.Text.Json.JsonException)
        {
            return requested; // not a Ctm export's metadata: judged on the mapping asked for alone
        }

        var completed = new Dictionary<string, string>(requested, StringComparer.Ordinal);
        foreach (var (input, names) in columns ?? [])
        {
            completed.TryAdd(input, string.Join(',', names));
        }

        return completed;
    }

    public static (IReadOnlyDictionary<string, string>? Mapping, string? Error) Resolve(
        IReadOnlyList<OnnxNodeInfo> inputs, IReadOnlyList<OnnxNodeInfo> outputs, IReadOnlyDictionary<string, string> requested, IReadOnlyList<FeatureInfo> features)
    {
        var inputNames = inputs.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        var unknown = requested.Keys.Where(k => !inputNames.Contains(k)).ToList();
        if (unknown.Count > 0)
        {
            return (null, $"the mapping names {Quote(unknown)}, which the model does not have as inputs (its inputs: {Quote(inputNames)})");
        }

        if (!outputs.Any(o => o.IsTensor))
        {
            return (null, $"the model has no tensor output ({string.Join(", ", outputs)}); export it without a ZipMap (e.g. skl2onnx options zipmap=False)");
        }

        // Feature-named instances become rows that the Predictor merges into micro-batches: the same rule it loads by.
        if (OnnxServingLoader.RowBatchingProblem(inputs, outputs) is { } problem)
        {
            return (null, $"the model's inputs cannot be fed from the dataset's features one row per instance: {problem}; register it under a name with no data stream to serve it on its own tensors");
        }

        var byName = features.ToDictionary(f => f.Name, StringComparer.Ordinal);
        var mapping = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var input in inputs)
        {
            if (!input.IsTensor)
            {
                return (null, $"input '{input.Name}' is a {input.Kind}, not a tensor");
            }

            var source = requested.GetValueOrDefault(input.Name) ?? input.Name;
            var names = source.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            var missing = names.Where(n => !byName.ContainsKey(n)).ToList();
            if (names.Length == 0 || missing.Count > 0)
            {
                var hint = requested.ContainsKey(input.Name) ? "it is mapped to" : "no mapping is given, and it is not itself";
                return (null, $"input '{input.Name}' ({input}) cannot be fed: {hint} {(names.Length == 0 ? "nothing" : Quote(missing))} {(requested.ContainsKey(input.Name) ? "which is not a feature" : "a feature")} of the dataset (features: {Quote(features.Select(f => f.Name))})");
            }

            var columns = input.Rank == 2 ? input.Shape[1] : 1;
            if (input.Rank > 2)
            {
                return (null, $"input '{input.Name}' ({input}) has rank {input.Rank}; tabular inputs are [N], [N,1] or [N,k]");
            }

            if (names.Length > 1 || columns > 1)
            {
                if (columns >= 0 && columns != names.Length)
                {
                    return (null, $"input '{input.Name}' ({input}) has {columns} columns but is mapped to {names.Length} features ({string.Join(",", names)})");
                }

                var categorical = names.Where(n => byName[n].Kind != ColumnKind.Numeric).ToList();
                if (categorical.Count > 0 || !Numeric.Contains(input.ElementType))
                {
                    return (null, $"input '{input.Name}' ({input}) is a matrix, which takes numeric features of a numeric type; {(categorical.Count > 0 ? $"{Quote(categorical)} are categorical" : $"its type is {input.ElementType}")}");
                }
            }
            else
            {
                var feature = byName[names[0]];
                var fits = feature.Kind == ColumnKind.Numeric ? Numeric.Contains(input.ElementType) : input.ElementType == TensorElementType.String;
                if (!fits)
                {
                    return (null, $"input '{input.Name}' ({input}) takes {input.ElementType}, but feature '{feature.Name}' is {EnumText<ColumnKind>.Name(feature.Kind)} ({(feature.Kind == ColumnKind.Numeric ? "a numeric tensor" : "a string tensor")} expected)");
                }
            }

            mapping[input.Name] = string.Join(",", names);
        }

        return (mapping, null);
    }

    private static string Quote(IEnumerable<string> names) => string.Join(", ", names.Select(n => $"'{n}'"));
}
