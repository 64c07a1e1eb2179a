using System.Globalization;

namespace Ctm.Ml;

/// <summary>
/// A columnar table of raw feature values and an optional label, the input of training, prediction and evaluation.
/// Numeric columns are <see cref="double"/> arrays (NaN = missing); categorical columns are string arrays
/// (null or empty = missing). Classification labels are class names; regression labels are numbers.
/// </summary>
public sealed class TabularDataset
{
    private readonly Dictionary<string, int> _index;
    private readonly double[]?[] _numeric;
    private readonly string?[]?[] _categorical;

    internal TabularDataset(
        IReadOnlyList<FeatureSpec> features, double[]?[] numeric, string?[]?[] categorical, int rowCount,
        string? labelName, double[]? numericLabels, string?[]? classLabels, double[]? weights)
    {
        Features = features;
        _numeric = numeric;
        _categorical = categorical;
        RowCount = rowCount;
        LabelName = labelName;
        NumericLabels = numericLabels;
        ClassLabels = classLabels;
        Weights = weights;
        _index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < features.Count; i++)
        {
            if (!_index.TryAdd(features[i].Name, i))
            {
                throw new ArgumentException($"Feature '{features[i].Name}' is declared twice.", nameof(features));
            }
        }
    }

    /// <summary>The feature columns, in order.</summary>
    public IReadOnlyList<FeatureSpec> Features { get; }

    /// <summary>The number of rows.</summary>
    public int RowCount { get; }

    /// <summary>The label column's name, or null when the dataset has no label (prediction input).</summary>
    public string? LabelName { get; }

    /// <summary>Regression labels, or null.</summary>
    public double[]? NumericLabels { get; }

    /// <summary>Classification labels (class names), or null.</summary>
    public string?[]? ClassLabels { get; }

    /// <summary>Optional per-row weights (non-negative); null means every row weighs 1.</summary>
    public double[]? Weights { get; }

    /// <summary>True when the dataset carries a label column.</summary>
    public bool HasLabel => NumericLabels is not null || ClassLabels is not null;

    /// <summary>Starts a dataset from columns.</summary>
    public static TabularDatasetBuilder CreateBuilder() => new();

    /// <summary>The feature's spec, or null when the dataset has no such feature.</summary>
    public FeatureSpec? FindFeature(string name) => _index.TryGetValue(name, out var i) ? Features[i] : null;

    /// <summary>A numeric column's values.</summary>
    /// <exception cref="KeyNotFoundException">The dataset has no numeric feature of that name.</exception>
    public double[] GetNumeric(string name) =>
        _index.TryGetValue(name, out var i) && _numeric[i] is { } column
            ? column
            : throw new KeyNotFoundException($"The dataset has no numeric feature '{name}'.");

    /// <summary>A categorical column's values.</summary>
    /// <exception cref="KeyNotFoundException">The dataset has no categorical feature of that name.</exception>
    public string?[] GetCategorical(string name) =>
        _index.TryGetValue(name, out var i) && _categorical[i] is { } column
            ? column
            : throw new KeyNotFoundException($"The dataset has no categorical feature '{name}'.");

    /// <summary>
    /// Reads rows of raw string cells: one cell per feature in <paramref name="features"/> order, then the label
    /// cell when <paramref name="labelName"/> is not null. Empty or null numeric cells are missing (NaN).
    /// </summary>
    /// <exception cref="FormatException">A numeric or regression-label cell is not a number; the message names the row and column.</exception>
    public static TabularDataset FromRows(
        IReadOnlyList<FeatureSpec> features, string? labelName, ModelTask task, IEnumerable<string?[]> rows)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(rows);
        var numeric = new List<double>?[features.Count];
        var categorical = new List<string?>?[features.Count];
        for (var f = 0; f < features.Count; f++)
        {
            if (features[f].Kind == FeatureKind.Numeric)
            {
                numeric[f] = [];
            }
            else
            {
                categorical[f] = [];
            }
        }

        var numericLabels = labelName is not null && task == ModelTask.Regression ? new List<double>() : null;
        var classLabels = labelName is not null && task != ModelTask.Regression ? new List<string?>() : null;
        var expected = features.Count + (labelName is null ? 0 : 1);
        var rowNumber = 0;
        foreach (var row in rows)
        {
            if (row.Length != expected)
            {
                throw new FormatException($"Row {rowNumber} has {row.Length} cells; expected {expected}.");
            }

            for (var f = 0; f < features.Count; f++)
            {
                if (numeric[f] is { } n)
                {
                    n.Add(ParseNumber(row[f], rowNumber, features[f].Name));
                }
                else
                {
                    categorical[f]!.Add(string.IsNullOrEmpty(row[f]) ? null : row[f]);
                }
            }

            numericLabels?.Add(ParseNumber(row[features.Count], rowNumber, labelName!));
            classLabels?.Add(row[features.Count]);
            rowNumber++;
        }

        return new TabularDataset(
            features.ToArray(),
            numeric.Select(c => c?.ToArray()).ToArray(),
            categorical.Select(c => c?.ToArray()).ToArray(),
            rowNumber, labelName, numericLabels?.ToArray(), classLabels?.ToArray(), null);
    }

    /// <summary>Appends datasets with the same columns (e.g. the accepted batches since the last model) into one.</summary>
    /// <exception cref="ArgumentException">The parts differ in features, feature kinds, label name or label type, or only some carry weights.</exception>
    public static TabularDataset Concat(IReadOnlyList<TabularDataset> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Count == 0)
        {
            throw new ArgumentException("Nothing to concatenate.", nameof(parts));
        }

        var first = parts[0];
        foreach (var part in parts)
        {
            var same = part.Features.Count == first.Features.Count
                && first.Features.All(f => part.FindFeature(f.Name) is { } g && g.Kind == f.Kind)
                && part.LabelName == first.LabelName
                && (part.NumericLabels is null) == (first.NumericLabels is null)
                && (part.ClassLabels is null) == (first.ClassLabels is null);
            if (!same)
            {
                throw new ArgumentException("Datasets to concatenate must have the same features (name and kind) and the same label.", nameof(parts));
            }

            if ((part.Weights is null) != (first.Weights is null))
            {
                throw new ArgumentException("Either every dataset to concatenate has row weights or none has.", nameof(parts));
            }
        }

        var numeric = new double[]?[first.Features.Count];
        var categorical = new string?[]?[first.Features.Count];
        for (var f = 0; f < first.Features.Count; f++)
        {
            var name = first.Features[f].Name;
            if (first.Features[f].Kind == FeatureKind.Numeric)
            {
                numeric[f] = [.. parts.SelectMany(p => p.GetNumeric(name))];
            }
            else
            {
                categorical[f] = [.. parts.SelectMany(p => p.GetCategorical(name))];
            }
        }

        return new TabularDataset(
            first.Features, numeric, categorical, parts.Sum(p => p.RowCount), first.LabelName,
            first.NumericLabels is null ? null : [.. parts.SelectMany(p => p.NumericLabels!)],
            first.ClassLabels is null ? null : [.. parts.SelectMany(p => p.ClassLabels!)],
            first.Weights is null ? null : [.. parts.SelectMany(p => p.Weights!)]);
    }

    /// <summary>A dataset of the given rows (in that order), e.g. a train/test split.</summary>
    public TabularDataset Take(IReadOnlyList<int> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        return new TabularDataset(
            Features,
            _numeric.Select(c => c is null ? null : Pick(c, rows)).ToArray(),
            _categorical.Select(c => c is null ? null : Pick(c, rows)).ToArray(),
            rows.Count, LabelName,
            NumericLabels is null ? null : Pick(NumericLabels, rows),
            ClassLabels is null ? null : Pick(ClassLabels, rows),
            Weights is null ? null : Pick(Weights, rows));
    }

    /// <summary>Splits rows at random (deterministic for a seed) into a training part and a test part.</summary>
    public (TabularDataset Train, TabularDataset Test) Split(double testFraction, int seed)
    {
        if (testFraction is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(testFraction), testFraction, "Must be between 0 and 1.");
        }

        var order = Enumerable.Range(0, RowCount).ToArray();
        new Engine.Rng((ulong)seed).Shuffle(order);
        var testCount = (int)Math.Round(RowCount * testFraction);
        var test = order.AsSpan(0, testCount).ToArray();
        var train = order.AsSpan(testCount).ToArray();
        Array.Sort(test);
        Array.Sort(train);
        return (Take(train), Take(test));
    }

    internal double[]? NumericColumn(int featureIndex) => _numeric[featureIndex];

    internal string?[]? CategoricalColumn(int featureIndex) => _categorical[featureIndex];

    private static T[] Pick<T>(T[] source, IReadOnlyList<int> rows)
    {
        var result = new T[rows.Count];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = source[rows[i]];
        }

        return result;
    }

    private static double ParseNumber(string? cell, int row, string column)
    {
        if (string.IsNullOrWhiteSpace(cell))
        {
            return double.NaN;
        }

        return double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new FormatException($"Row {row}, column '{column}': '{cell}' is not a number.");
    }
}

/// <summary>Builds a <see cref="TabularDataset"/> from columns; every column must have the same length.</summary>
public sealed class TabularDatasetBuilder
{
    private readonly List<FeatureSpec> _features = [];
    private readonly List<double[]?> _numeric = [];
    private readonly List<string?[]?> _categorical = [];
    private string? _labelName;
    private double[]? _numericLabels;
    private string?[]? _classLabels;
    private double[]? _weights;

    /// <summary>Adds a numeric feature column (NaN = missing).</summary>
    public TabularDatasetBuilder AddNumeric(string name, double[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        _features.Add(new FeatureSpec(name, FeatureKind.Numeric));
        _numeric.Add(values);
        _categorical.Add(null);
        return this;
    }

    /// <summary>Adds a categorical feature column (null or empty = missing).</summary>
    public TabularDatasetBuilder AddCategorical(string name, string?[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        _features.Add(new FeatureSpec(name, FeatureKind.Categorical));
        _numeric.Add(null);
        _categorical.Add(values);
        return this;
    }

    /// <summary>Sets a regression label.</summary>
    public TabularDatasetBuilder WithLabel(string name, double[] values)
    {
        (_labelName, _numericLabels, _classLabels) = (name, values, null);
        return this;
    }

    /// <summary>Sets a classification label (class names).</summary>
    public TabularDatasetBuilder WithLabel(string name, string?[] values)
    {
        (_labelName, _numericLabels, _classLabels) = (name, null, values);
        return this;
    }

    /// <summary>Sets per-row weights.</summary>
    public TabularDatasetBuilder WithWeights(double[] weights)
    {
        _weights = weights;
        return this;
    }

    /// <summary>Checks the column lengths and builds the dataset.</summary>
    /// <exception cref="ArgumentException">Columns differ in length, or a feature name repeats.</exception>
    public TabularDataset Build()
    {
        var lengths = _numeric.Where(c => c is not null).Select(c => c!.Length)
            .Concat(_categorical.Where(c => c is not null).Select(c => c!.Length))
            .Concat(_numericLabels is null ? [] : [_numericLabels.Length])
            .Concat(_classLabels is null ? [] : [_classLabels.Length])
            .Concat(_weights is null ? [] : [_weights.Length])
            .Distinct().ToArray();
        if (lengths.Length > 1)
        {
            throw new ArgumentException($"Columns differ in length: {string.Join(", ", lengths)}.");
        }

        return new TabularDataset(
            _features.ToArray(), _numeric.ToArray(), _categorical.ToArray(), lengths.FirstOrDefault(),
            _labelName, _numericLabels, _classLabels, _weights);
    }
}
