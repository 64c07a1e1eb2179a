using System.Globalization;
using Ctm.Contracts;
using Ctm.Data.Parsing;
using Ctm.Data.Schema;

namespace Ctm.Validator.Validation;

/// <summary>
/// The contract view of a dataset's schema: its columns and their kinds, the label column and the task, as
/// <see cref="BatchAccepted"/> carries them. The full schema (presence, domains, ranges) is the library's <see cref="DataSchema"/>.
/// </summary>
public sealed record DatasetSchema(IReadOnlyList<ColumnSpec> Columns, string Label, TaskKind Task)
{
    public IReadOnlyList<ColumnSpec> Features => [.. Columns.Where(c => c.Name != Label)];

    /// <summary>The contract view of <paramref name="schema"/>.</summary>
    public static DatasetSchema From(DataSchema schema, TaskKind task) => new(
        [.. schema.Columns.Select(c => new ColumnSpec { Name = c.Name, Kind = c.Type == ColumnType.Numeric ? ColumnKind.Numeric : ColumnKind.Categorical })],
        schema.LabelColumn ?? throw new InvalidOperationException($"{schema} has no label column"),
        task);

    /// <summary>The label column: the configured one, else a column named label, target or y, else the last column.</summary>
    public static string ChooseLabel(IReadOnlyList<string> columns, string? configuredLabel) =>
        configuredLabel ?? columns.FirstOrDefault(c => c is "label" or "target" or "y") ?? columns[^1];

    /// <summary>The task from the label's values: a categorical label or a numeric one with a few integer values is a class label.</summary>
    public static TaskKind InferTask(TabularBatch batch, string label, ColumnType kind)
    {
        var labelIndex = batch.IndexOf(label);
        var values = batch.Rows.Select(r => r[labelIndex]).Where(v => v is not null).Distinct(StringComparer.Ordinal).ToList();
        if (kind == ColumnType.Categorical)
        {
            return values.Count <= 2 ? TaskKind.Binary : TaskKind.Multiclass;
        }

        var integral = values.All(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && Math.Abs(d - Math.Round(d)) < 1e-12);
        return integral && values.Count <= 2 ? TaskKind.Binary : integral && values.Count <= 10 ? TaskKind.Multiclass : TaskKind.Regression;
    }
}
