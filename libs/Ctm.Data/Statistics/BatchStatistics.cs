using System.Text.Json;
using Ctm.Data.Parsing;
using Ctm.Data.Schema;

namespace Ctm.Data.Statistics;

/// <summary>
/// Statistics of a batch, or of several merged (a baseline, a window). Computed in one streaming pass by
/// <see cref="StatisticsBuilder"/> in memory bounded by the number of columns; mergeable with <see cref="Merge"/>;
/// serializable with <see cref="ToJson"/> / <see cref="FromJson"/>.
/// </summary>
public sealed class BatchStatistics
{
    /// <summary>Rows.</summary>
    public long RowCount { get; set; }

    /// <summary>Batches summarized (1 for a single batch).</summary>
    public int BatchCount { get; set; } = 1;

    /// <summary>Mean row count per batch.</summary>
    public double BatchRowCountMean { get; set; }

    /// <summary>Sum of squared deviations of the per-batch row counts (for their spread).</summary>
    public double BatchRowCountM2 { get; set; }

    /// <summary>The label column's name, when the dataset has one.</summary>
    public string? LabelColumn { get; set; }

    /// <summary>Per-column statistics, in header order of the first batch.</summary>
    public List<ColumnStatistics> Columns { get; init; } = [];

    /// <summary>The label column's statistics: its distribution (value frequencies or numeric histogram).</summary>
    public ColumnStatistics? Label => LabelColumn is null ? null : Column(LabelColumn);

    /// <summary>The statistics of <paramref name="name"/>, or null when the batch had no such column.</summary>
    public ColumnStatistics? Column(string name) => Columns.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.Ordinal));

    /// <summary>
    /// Merges statistics of several batches, such as a training baseline (the batches a model was trained on)
    /// or the recent accepted window. Columns match by name.
    /// </summary>
    public static BatchStatistics Merge(IEnumerable<BatchStatistics> batches)
    {
        ArgumentNullException.ThrowIfNull(batches);
        BatchStatistics? result = null;
        foreach (var b in batches)
        {
            if (result is null)
            {
                result = b.Clone();
                continue;
            }

            var n = result.BatchCount + b.BatchCount;
            var delta = b.BatchRowCountMean - result.BatchRowCountMean;
            result.BatchRowCountM2 += b.BatchRowCountM2 + (delta * delta * result.BatchCount * b.BatchCount / n);
            result.BatchRowCountMean += delta * b.BatchCount / n;
            result.BatchCount = n;
            result.RowCount += b.RowCount;
            result.LabelColumn ??= b.LabelColumn;
            foreach (var column in b.Columns)
            {
                var mine = result.Column(column.Name);
                if (mine is null)
                {
                    result.Columns.Add(column.Clone());
                }
                else
                {
                    mine.Merge(column);
                }
            }
        }

        return result ?? throw new ArgumentException("there are no statistics to merge", nameof(batches));
    }

    /// <summary>A deep copy.</summary>
    public BatchStatistics Clone() => new()
    {
        RowCount = RowCount,
        BatchCount = BatchCount,
        BatchRowCountMean = BatchRowCountMean,
        BatchRowCountM2 = BatchRowCountM2,
        LabelColumn = LabelColumn,
        Columns = [.. Columns.Select(c => c.Clone())],
    };

    /// <summary>
    /// Computes statistics over every record of a CSV reader in one pass. With a schema, columns are read as
    /// its types say (cells of a numeric column that are not numbers are counted as type mismatches); without
    /// one, each column's type is inferred. On a machine with more than one core, parsing and statistics run on
    /// two threads (the result is the same).
    /// </summary>
    /// <param name="reader">A reader positioned before the first record.</param>
    /// <param name="schema">The dataset's schema, or null while there is none yet.</param>
    /// <param name="labelColumn">The label column's name when there is no schema.</param>
    /// <param name="pipelined">False to parse and summarize on the calling thread only.</param>
    public static BatchStatistics Compute(CsvReader reader, DataSchema? schema = null, string? labelColumn = null, bool pipelined = true)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var builder = new StatisticsBuilder(reader.Header, schema, labelColumn);
        if (pipelined && Environment.ProcessorCount > 1)
        {
            PipelinedStatistics.Run(reader, builder);
            return builder.Build();
        }

        var columns = reader.Header.Count;
        while (reader.Read())
        {
            for (var i = 0; i < columns; i++)
            {
                builder.Add(i, reader.GetField(i));
            }

            builder.EndRow();
        }

        return builder.Build();
    }

    /// <summary>Computes statistics of an in-memory batch (null cells are missing).</summary>
    public static BatchStatistics Compute(TabularBatch batch, DataSchema? schema = null, string? labelColumn = null)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var builder = new StatisticsBuilder(batch.Columns, schema, labelColumn);
        foreach (var row in batch.Rows)
        {
            for (var i = 0; i < row.Length; i++)
            {
                builder.Add(i, row[i]);
            }

            builder.EndRow();
        }

        return builder.Build();
    }

    /// <summary>The statistics as JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, DataJson.Options);

    /// <summary>Reads statistics written by <see cref="ToJson"/>.</summary>
    public static BatchStatistics FromJson(string json) =>
        JsonSerializer.Deserialize<BatchStatistics>(json, DataJson.Options) ?? throw new JsonException("the statistics JSON is null");
}
