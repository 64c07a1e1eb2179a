namespace Ctm.Ml.Data;

/// <summary>The preprocessing half of a model state: what turns raw values into the network's input.</summary>
internal sealed record Preprocessing(
    ModelTask Task, FeatureSpec[] Features, string LabelName, string[] Classes,
    float[] Means, float[] Stds, string[][] Vocabularies, float LabelMean, float LabelStd)
{
    public int NumericCount => Means.Length;

    public int CategoricalCount => Vocabularies.Length;

    public int InputWidth => NumericCount + Vocabularies.Sum(v => v.Length + 1);

    public int OutputWidth => Task == ModelTask.MulticlassClassification ? Classes.Length : 1;

    public int[] CategoricalOffsets()
    {
        var offsets = new int[Vocabularies.Length];
        var next = NumericCount;
        for (var c = 0; c < offsets.Length; c++)
        {
            offsets[c] = next;
            next += Vocabularies[c].Length + 1;
        }

        return offsets;
    }

    public static Preprocessing Of(ModelState s) =>
        new(s.Task, [.. s.Features], s.LabelName, s.Classes, s.NumericMeans, s.NumericStds, s.Vocabularies, s.LabelMean, s.LabelStd);

    /// <summary>
    /// Fits statistics on training data, or, with a parent, keeps the parent's statistics (its weights were learned
    /// against them) and grows its vocabularies with categories the parent never saw.
    /// </summary>
    public static Preprocessing Fit(TabularDataset data, TrainingOptions options, ModelState? parent)
    {
        if (data.RowCount == 0)
        {
            throw new ArgumentException("The training dataset is empty.", nameof(data));
        }

        if (!data.HasLabel)
        {
            throw new ArgumentException("The training dataset has no label column.", nameof(data));
        }

        if (data.Features.Count == 0)
        {
            throw new ArgumentException("The training dataset has no feature columns.", nameof(data));
        }

        var task = parent?.Task ?? options.Task;
        if (parent is not null && parent.Task != options.Task)
        {
            throw new ArgumentException($"The parent model is {parent.Task}; options ask for {options.Task}.", nameof(options));
        }

        var features = parent is null ? [.. data.Features] : CheckSameFeatures(data, parent);
        var numeric = features.Where(f => f.Kind == FeatureKind.Numeric).ToArray();
        var categorical = features.Where(f => f.Kind == FeatureKind.Categorical).ToArray();
        string labelName = data.LabelName!;

        float[] means, stds;
        if (parent is null)
        {
            means = new float[numeric.Length];
            stds = new float[numeric.Length];
            for (var j = 0; j < numeric.Length; j++)
            {
                (means[j], stds[j]) = MeanStd(data.GetNumeric(numeric[j].Name), numeric[j].Name);
            }
        }
        else
        {
            (means, stds) = (parent.NumericMeans, parent.NumericStds);
            foreach (var f in numeric)
            {
                CheckFinite(data.GetNumeric(f.Name), f.Name);
            }
        }

        var vocabularies = new string[categorical.Length][];
        for (var c = 0; c < categorical.Length; c++)
        {
            vocabularies[c] = GrowVocabulary(parent?.Vocabularies[c] ?? [], data.GetCategorical(categorical[c].Name), options);
        }

        string[] classes = [];
        float labelMean = 0, labelStd = 1;
        if (task == ModelTask.Regression)
        {
            var y = data.NumericLabels ?? throw new ArgumentException($"Regression needs a numeric label; '{labelName}' holds class names.", nameof(data));
            for (var i = 0; i < y.Length; i++)
            {
                if (!double.IsFinite(y[i]))
                {
                    throw new ArgumentException($"Label '{labelName}' is {y[i]} at row {i}; labels must be finite numbers.", nameof(data));
                }
            }

            (labelMean, labelStd) = parent is null ? MeanStd(y, labelName) : (parent.LabelMean, parent.LabelStd);
        }
        else
        {
            var y = data.ClassLabels ?? throw new ArgumentException($"Classification needs class-name labels; '{labelName}' holds numbers.", nameof(data));
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < y.Length; i++)
            {
                if (string.IsNullOrEmpty(y[i]))
                {
                    throw new ArgumentException($"Label '{labelName}' is missing at row {i}.", nameof(data));
                }

                seen.Add(y[i]!);
            }

            if (parent is not null)
            {
                classes = parent.Classes;
                var unknown = seen.Where(s => Array.IndexOf(classes, s) < 0).Order(StringComparer.Ordinal).FirstOrDefault();
                if (unknown is not null)
                {
                    throw new ArgumentException($"Class '{unknown}' is not among the parent model's classes [{string.Join(", ", classes)}]; a new class needs a fresh model.", nameof(data));
                }
            }
            else
            {
                classes = [.. seen.Order(StringComparer.Ordinal)];
                if (task == ModelTask.BinaryClassification && classes.Length != 2)
                {
                    throw new ArgumentException($"Binary classification needs exactly two classes; label '{labelName}' has {classes.Length} ({string.Join(", ", classes.Take(5))}).", nameof(data));
                }

                if (task == ModelTask.MulticlassClassification && classes.Length < 2)
                {
                    throw new ArgumentException($"Classification needs at least two classes; label '{labelName}' has {classes.Length}.", nameof(data));
                }
            }
        }

        return new Preprocessing(task, features, labelName, classes, means, stds, vocabularies, labelMean, labelStd);
    }

    /// <summary>Turns raw rows into the network's input (and targets, when asked).</summary>
    public EncodedData Encode(TabularDataset data, bool withLabels)
    {
        var rows = data.RowCount;
        var x = new float[rows * NumericCount];
        var cat = new int[rows * CategoricalCount];
        var offsets = CategoricalOffsets();
        int n = 0, c = 0;
        foreach (var f in Features)
        {
            var spec = data.FindFeature(f.Name)
                ?? throw new ArgumentException($"The dataset lacks feature '{f.Name}' that the model needs.", nameof(data));
            if (spec.Kind != f.Kind)
            {
                throw new ArgumentException($"Feature '{f.Name}' is {spec.Kind} in the dataset but {f.Kind} in the model.", nameof(data));
            }

            if (f.Kind == FeatureKind.Numeric)
            {
                var column = data.GetNumeric(f.Name);
                CheckFinite(column, f.Name);
                float mean = Means[n], std = Stds[n];
                for (var r = 0; r < rows; r++)
                {
                    x[(r * NumericCount) + n] = Standardize(column[r], mean, std);
                }

                n++;
            }
            else
            {
                var column = data.GetCategorical(f.Name);
                var vocabulary = Vocabularies[c];
                var lookup = new Dictionary<string, int>(vocabulary.Length, StringComparer.Ordinal);
                for (var i = 0; i < vocabulary.Length; i++)
                {
                    lookup[vocabulary[i]] = i;
                }

                for (var r = 0; r < rows; r++)
                {
                    var value = column[r];
                    var index = value is not null && lookup.TryGetValue(value, out var i) ? i : vocabulary.Length;
                    cat[(r * CategoricalCount) + c] = offsets[c] + index;
                }

                c++;
            }
        }

        float[]? y = null, w = null;
        if (withLabels)
        {
            y = new float[rows];
            if (Task == ModelTask.Regression)
            {
                var labels = data.NumericLabels!;
                for (var r = 0; r < rows; r++)
                {
                    y[r] = ((float)labels[r] - LabelMean) / LabelStd;
                }
            }
            else
            {
                var labels = data.ClassLabels!;
                var lookup = new Dictionary<string, int>(StringComparer.Ordinal);
                for (var i = 0; i < Classes.Length; i++)
                {
                    lookup[Classes[i]] = i;
                }

                for (var r = 0; r < rows; r++)
                {
                    y[r] = lookup[labels[r]!];
                }
            }

            if (data.Weights is { } weights)
            {
                w = new float[rows];
                for (var r = 0; r < rows; r++)
                {
                    if (!(weights[r] >= 0) || double.IsInfinity(weights[r]))
                    {
                        throw new ArgumentException($"Row weight {weights[r]} at row {r} is not a finite non-negative number.", nameof(data));
                    }

                    w[r] = (float)weights[r];
                }

                if (w.All(v => v == 0))
                {
                    throw new ArgumentException("Every row weight is zero.", nameof(data));
                }
            }
        }

        return new EncodedData(rows, NumericCount, CategoricalCount, x, cat, y, w);
    }

    /// <summary>The same float arithmetic as the exported graph: (x - mean) / std, missing = 0 (the mean).</summary>
    public static float Standardize(double raw, float mean, float std) =>
        double.IsNaN(raw) ? 0f : ((float)raw - mean) / std;

    private static FeatureSpec[] CheckSameFeatures(TabularDataset data, ModelState parent)
    {
        foreach (var f in data.Features)
        {
            if (!parent.Features.Any(p => p.Name == f.Name))
            {
                throw new ArgumentException($"Feature '{f.Name}' is not in the parent model; a changed schema needs a fresh model.", nameof(data));
            }
        }

        foreach (var p in parent.Features)
        {
            var spec = data.FindFeature(p.Name)
                ?? throw new ArgumentException($"The dataset lacks feature '{p.Name}' that the parent model has.", nameof(data));
            if (spec.Kind != p.Kind)
            {
                throw new ArgumentException($"Feature '{p.Name}' is {spec.Kind} in the dataset but {p.Kind} in the parent model.", nameof(data));
            }
        }

        return [.. parent.Features];
    }

    private static string[] GrowVocabulary(string[] parent, string?[] column, TrainingOptions options)
    {
        var known = new HashSet<string>(parent, StringComparer.Ordinal);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var value in column)
        {
            if (!string.IsNullOrEmpty(value) && !known.Contains(value))
            {
                counts[value] = counts.GetValueOrDefault(value) + 1;
            }
        }

        var room = Math.Max(0, options.MaxCategories - parent.Length);
        var added = counts.Where(kv => kv.Value >= options.MinCategoryCount)
            .OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .Take(room).Select(kv => kv.Key);
        return [.. parent, .. added];
    }

    private static void CheckFinite(double[] column, string name)
    {
        for (var i = 0; i < column.Length; i++)
        {
            if (double.IsInfinity(column[i]))
            {
                throw new ArgumentException($"Feature '{name}' is {column[i]} at row {i}; use NaN for missing values.");
            }
        }
    }

    private static (float Mean, float Std) MeanStd(double[] values, string name)
    {
        CheckFinite(values, name);
        double sum = 0, sumSq = 0;
        var count = 0;
        foreach (var v in values)
        {
            if (!double.IsNaN(v))
            {
                sum += v;
                count++;
            }
        }

        if (count == 0)
        {
            return (0, 1);
        }

        var mean = sum / count;
        foreach (var v in values)
        {
            if (!double.IsNaN(v))
            {
                sumSq += (v - mean) * (v - mean);
            }
        }

        var std = Math.Sqrt(sumSq / count);
        return ((float)mean, std > 1e-12 && (float)std > 0 ? (float)std : 1f);
    }
}

/// <summary>Network input for a dataset: standardized numerics, first-layer row of each categorical value, targets.</summary>
/// <param name="Rows">Row count.</param>
/// <param name="NumericCount">Numeric features per row.</param>
/// <param name="CategoricalCount">Categorical features per row.</param>
/// <param name="X">Row-major [Rows, NumericCount] standardized values.</param>
/// <param name="Cat">Row-major [Rows, CategoricalCount] first-layer row indices.</param>
/// <param name="Y">Targets: class index, or standardized regression label.</param>
/// <param name="W">Row weights, or null for all ones.</param>
internal sealed record EncodedData(int Rows, int NumericCount, int CategoricalCount, float[] X, int[] Cat, float[]? Y, float[]? W);
