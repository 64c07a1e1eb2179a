using System.Buffers;
using System.Text;

namespace Ctm.Testing.Streams;

/// <summary>
/// One batch of a generated stream: rows in time order covering <paramref name="From"/> to <paramref name="To"/>
/// (the first and last event), with <c>null</c> cells for missing values.
/// </summary>
public sealed record StreamBatch(
    int Index, DateTimeOffset From, DateTimeOffset To, IReadOnlyList<string> Header, IReadOnlyList<string?[]> Rows, Corruption Corruption)
{
    private static readonly SearchValues<char> NeedsQuoting = SearchValues.Create(",\"\r\n");

    /// <summary>True when no corruption was injected into this batch.</summary>
    public bool IsClean => Corruption == Corruption.None;

    /// <summary>
    /// RFC 4180 CSV with a header row, as Ingest accepts it: LF line ends, fields quoted only when they must be,
    /// a missing value as an empty field (the same bytes as <c>CsvTableWriter</c> would write).
    /// </summary>
    public string ToCsv()
    {
        var csv = new StringBuilder(64 + (Rows.Count * 48));
        AppendRow(csv, Header);
        foreach (var row in Rows)
        {
            AppendRow(csv, row);
        }

        return csv.ToString();
    }

    /// <summary>UTF-8 bytes of <see cref="ToCsv"/>.</summary>
    public byte[] ToCsvBytes() => Encoding.UTF8.GetBytes(ToCsv());

    /// <summary>The values of <paramref name="column"/> in row order.</summary>
    public IEnumerable<string?> Column(string column)
    {
        var index = -1;
        for (var i = 0; i < Header.Count; i++)
        {
            if (string.Equals(Header[i], column, StringComparison.Ordinal))
            {
                index = i;
            }
        }

        if (index < 0)
        {
            throw new ArgumentException($"The stream has no column '{column}'.", nameof(column));
        }

        return Rows.Select(row => row[index]);
    }

    private static void AppendRow(StringBuilder csv, IReadOnlyList<string?> cells)
    {
        for (var i = 0; i < cells.Count; i++)
        {
            if (i > 0)
            {
                csv.Append(',');
            }

            var cell = cells[i];
            if (cell is null)
            {
                continue;
            }

            if (cell.AsSpan().IndexOfAny(NeedsQuoting) < 0)
            {
                csv.Append(cell);
            }
            else
            {
                csv.Append('"').Append(cell.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
            }
        }

        csv.Append('\n');
    }
}

/// <summary>A whole generated stream and what a consumer needs to train on it.</summary>
public sealed record GeneratedStream(
    StreamOptions Options,
    string LabelColumn,
    string Task,
    IReadOnlyList<string> NumericFeatures,
    IReadOnlyList<string> CategoricalFeatures,
    IReadOnlyList<StreamBatch> Batches)
{
    /// <summary>Weather: the class that first appears mid-stream (<c>snow</c>); null for Events.</summary>
    public string? LateClass { get; init; }

    /// <summary>Weather: the index of the first batch that contains <see cref="LateClass"/>.</summary>
    public int? LateClassFirstBatch { get; init; }
}
