using System.Globalization;
using Ctm.Ml;

namespace Ctm.Trainer.Quality;

/// <summary>
/// A slice an operator named: the rows whose <paramref name="Feature"/> equals <paramref name="Value"/>, or, for a
/// numeric feature, lies in [<paramref name="Min"/>, <paramref name="Max"/>) (either bound may be open). Scored on every
/// labeled batch beside the automatic slices, under <see cref="NamedSlices.Feature"/> with the name as its value, so
/// it has its own history and its own alarms.
/// </summary>
public sealed record NamedSlice(string Name, string Feature, string? Value, double? Min, double? Max);

public static class NamedSlices
{
    /// <summary>The slice feature under which named slices are reported.</summary>
    public const string Feature = "@named";

    public const int MaxSlices = 20;

    /// <summary>Every problem with <paramref name="slices"/>, by field; empty when they are usable.</summary>
    public static Dictionary<string, string[]> Validate(IReadOnlyList<NamedSlice>? slices)
    {
        var errors = new Dictionary<string, string[]>();
        if (slices is null)
        {
            return errors;
        }

        if (slices.Count > MaxSlices)
        {
            errors["slices"] = [$"at most {MaxSlices} named slices (got {slices.Count})"];
        }

        for (var i = 0; i < slices.Count; i++)
        {
            var s = slices[i];
            var problem = s switch
            {
                null => "is empty",
                { Name: null or "" } or { Name.Length: > 64 } => "needs a name of 1 to 64 characters",
                { Feature: null or "" } => $"'{s.Name}' needs a feature",
                { Value: not null, Min: null, Max: null } => null,
                { Value: not null } => $"'{s.Name}' names a value and a range: give one",
                { Min: null, Max: null } => $"'{s.Name}' needs a value, or a numeric range (min, max)",
                { Min: { } lo, Max: { } hi } when !(lo < hi) => $"'{s.Name}' has min {lo.ToString(CultureInfo.InvariantCulture)} not below max {hi.ToString(CultureInfo.InvariantCulture)}",
                _ => null,
            };
            if (problem is null && slices.Take(i).Any(o => o?.Name == s!.Name))
            {
                problem = $"'{s!.Name}' is named twice";
            }

            if (problem is not null)
            {
                errors[$"slices[{i}]"] = [problem];
            }
        }

        return errors;
    }

    /// <summary>Metrics on each named slice's rows; a slice whose feature the data lacks, or with no rows, is left out.</summary>
    public static List<SliceMetrics> Measure(ModelPredictions predictions, TabularDataset data, IReadOnlyList<NamedSlice> slices)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(slices);
        var measured = new List<SliceMetrics>();
        foreach (var slice in slices)
        {
            var rows = Rows(data, slice);
            if (rows is not { Count: > 0 })
            {
                continue;
            }

            var columns = predictions.Columns;
            var values = new float[rows.Count * columns];
            for (var i = 0; i < rows.Count; i++)
            {
                Array.Copy(predictions.Values, rows[i] * columns, values, i * columns, columns);
            }

            var subset = predictions with { Values = values, Labels = predictions.Labels is { } l ? [.. rows.Select(r => l[r])] : null };
            var metrics = Evaluator.Evaluate(subset, data.Take(rows), topValuesPerFeature: 0, numericEdges: null, perClass: false);
            measured.Add(new SliceMetrics(Feature, slice.Name, metrics.Overall));
        }

        return measured;
    }

    private static List<int>? Rows(TabularDataset data, NamedSlice slice)
    {
        switch (data.FindFeature(slice.Feature)?.Kind)
        {
            case FeatureKind.Categorical:
                var text = data.GetCategorical(slice.Feature);
                return slice.Value is { } v ? [.. Enumerable.Range(0, data.RowCount).Where(r => text[r] == v)] : null;
            case FeatureKind.Numeric:
                var x = data.GetNumeric(slice.Feature);
                if (slice.Value is { } n)
                {
                    return double.TryParse(n, NumberStyles.Float, CultureInfo.InvariantCulture, out var equal)
                        ? [.. Enumerable.Range(0, data.RowCount).Where(r => x[r] == equal)]
                        : null;
                }

                double lo = slice.Min ?? double.NegativeInfinity, hi = slice.Max ?? double.PositiveInfinity;
                return [.. Enumerable.Range(0, data.RowCount).Where(r => !double.IsNaN(x[r]) && x[r] >= lo && x[r] < hi)];
            default:
                return null;
        }
    }
}
