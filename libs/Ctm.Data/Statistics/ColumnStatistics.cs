using Ctm.Data.Schema;

namespace Ctm.Data.Statistics;

/// <summary>Statistics of one column of one batch (or of merged batches).</summary>
public sealed class ColumnStatistics
{
    /// <summary>The most non-numeric examples kept for a numeric column.</summary>
    public const int MaxExamples = 5;

    /// <summary>The column name.</summary>
    public required string Name { get; init; }

    /// <summary>The type the values were read as (from the schema, or inferred when there was none).</summary>
    public ColumnType Type { get; set; }

    /// <summary>Rows in which the column existed.</summary>
    public long Count { get; set; }

    /// <summary>Rows with an empty cell.</summary>
    public long Missing { get; set; }

    /// <summary>Cells of a numeric column that did not parse as a number.</summary>
    public long NonNumeric { get; set; }

    /// <summary>A few of those cells, for messages.</summary>
    public List<string> NonNumericExamples { get; init; } = [];

    /// <summary>Numeric statistics, for numeric columns.</summary>
    public NumericStatistics? Numeric { get; set; }

    /// <summary>Value statistics, for categorical columns.</summary>
    public CategoricalStatistics? Categorical { get; set; }

    /// <summary>Rows with a value.</summary>
    public long Present => Count - Missing;

    /// <summary>Adds the rows summarized by <paramref name="other"/> (same column).</summary>
    public void Merge(ColumnStatistics other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Count += other.Count;
        Missing += other.Missing;
        NonNumeric += other.NonNumeric;
        foreach (var e in other.NonNumericExamples)
        {
            if (NonNumericExamples.Count < MaxExamples && !NonNumericExamples.Contains(e))
            {
                NonNumericExamples.Add(e);
            }
        }

        if (other.Numeric is not null)
        {
            if (Numeric is null)
            {
                Numeric = other.Numeric.Clone();
            }
            else
            {
                Numeric.Merge(other.Numeric);
            }
        }

        if (other.Categorical is not null)
        {
            if (Categorical is null)
            {
                Categorical = other.Categorical.Clone();
            }
            else
            {
                Categorical.Merge(other.Categorical);
            }
        }

        if (other.Type == ColumnType.Categorical)
        {
            Type = ColumnType.Categorical;
        }
    }

    /// <summary>A deep copy.</summary>
    public ColumnStatistics Clone() => new()
    {
        Name = Name,
        Type = Type,
        Count = Count,
        Missing = Missing,
        NonNumeric = NonNumeric,
        NonNumericExamples = [.. NonNumericExamples],
        Numeric = Numeric?.Clone(),
        Categorical = Categorical?.Clone(),
    };
}
