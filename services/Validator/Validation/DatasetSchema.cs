using System.Globalization;
using Ctm.Contracts;
using Ctm.Data.Parsing;

namespace Ctm.Validator.Validation;

/// <summary>A dataset's schema: its columns and their kinds, the label column and the task.</summary>
public sealed record DatasetSchema(IReadOnlyList<ColumnSpec> Columns, string Label, string Task)
{
    public const string Numeric = "numeric";
    public const string Categorical = "categorical";

    public IReadOnlyList<ColumnSpec> Features => [.. Columns.Where(c => c.Name != Label)];

    /// <summary>
    /// Infers the schema from a dataset's first batch. The label column is the configured one, else a column
    /// named label, target or y, else the last column; the task is the configured one, else inferred from the label.
    /// </summary>
    public static DatasetSchema Infer(TabularBatch batch, string? configuredLabel, string? configuredTask, out string? problem)
    {
        problem = null;
        var columns = batch.Columns.Select((name, i) => new ColumnSpec { Name = name, Kind = IsNumeric(batch, i) ? Numeric : Categorical }).ToList();
        var label = configuredLabel
            ?? batch.Columns.FirstOrDefault(c => c is "label" or "target" or "y")
            ?? batch.Columns[^1];
        var labelIndex = batch.IndexOf(label);
        if (labelIndex < 0)
        {
            problem = $"the label column '{label}' (from the dataset's config) is not in the batch";
            return new DatasetSchema(columns, label, configuredTask ?? "binary");
        }

        return new DatasetSchema(columns, label, configuredTask ?? InferTask(batch, labelIndex, columns[labelIndex].Kind));
    }

    /// <summary>Every way <paramref name="batch"/> differs from this schema: missing and unexpected columns, type mismatches.</summary>
    public List<Anomaly> Check(TabularBatch batch)
    {
        var reasons = new List<Anomaly>();
        foreach (var column in Columns.Where(c => batch.IndexOf(c.Name) < 0))
        {
            reasons.Add(new Anomaly
            {
                Feature = column.Name,
                Kind = "missing-column",
                Description = column.Name == Label
                    ? $"The label column '{column.Name}' is missing from the batch."
                    : $"The {column.Kind} column '{column.Name}' of the schema is missing from the batch.",
            });
        }

        foreach (var name in batch.Columns.Where(n => !Columns.Any(c => c.Name == n)))
        {
            reasons.Add(new Anomaly { Feature = name, Kind = "unexpected-column", Description = $"The column '{name}' is not in the schema." });
        }

        foreach (var column in Columns.Where(c => c.Kind == Numeric))
        {
            var index = batch.IndexOf(column.Name);
            if (index < 0)
            {
                continue;
            }

            var bad = batch.Rows.Select(r => r[index]).Where(v => v is not null && !TryNumber(v, out _)).ToList();
            if (bad.Count > 0)
            {
                reasons.Add(new Anomaly
                {
                    Feature = column.Name,
                    Kind = "type-mismatch",
                    Measured = (double)bad.Count / batch.Rows.Count,
                    Threshold = 0,
                    Description = $"The numeric column '{column.Name}' has {bad.Count} non-numeric value(s) in {batch.Rows.Count} rows, e.g. '{bad[0]}'.",
                });
            }
        }

        return reasons;
    }

    public static bool TryNumber(string? text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    private static bool IsNumeric(TabularBatch batch, int column)
    {
        var any = false;
        foreach (var row in batch.Rows)
        {
            if (row[column] is { } value)
            {
                if (!TryNumber(value, out _))
                {
                    return false;
                }

                any = true;
            }
        }

        return any;
    }

    private static string InferTask(TabularBatch batch, int labelIndex, string kind)
    {
        var values = batch.Rows.Select(r => r[labelIndex]).Where(v => v is not null).Distinct(StringComparer.Ordinal).ToList();
        if (kind == Categorical)
        {
            return values.Count <= 2 ? "binary" : "multiclass";
        }

        // A numeric label with a few integer values is a class label; anything else is a quantity.
        var integral = values.All(v => TryNumber(v, out var d) && Math.Abs(d - Math.Round(d)) < 1e-12);
        return integral && values.Count <= 2 ? "binary" : integral && values.Count <= 10 ? "multiclass" : "regression";
    }
}
