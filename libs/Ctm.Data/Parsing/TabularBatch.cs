namespace Ctm.Data.Parsing;

/// <summary>
/// A parsed batch held in memory: column names and rows of raw cell text, where <c>null</c> is a
/// missing value. This is the shape every service agrees on; its canonical serialization is CSV
/// (<see cref="CsvTableWriter"/>), in which a missing value is an empty field.
/// </summary>
public sealed class TabularBatch
{
    /// <summary>Creates a batch; every row must have one cell per column.</summary>
    public TabularBatch(IReadOnlyList<string> columns, List<string?[]> rows)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(rows);
        for (var i = 0; i < rows.Count; i++)
        {
            if (rows[i].Length != columns.Count)
            {
                throw new ArgumentException($"row {i} has {rows[i].Length} cells for {columns.Count} columns", nameof(rows));
            }
        }

        Columns = columns;
        Rows = rows;
    }

    /// <summary>Column names in order.</summary>
    public IReadOnlyList<string> Columns { get; }

    /// <summary>Rows of cells; <c>null</c> is a missing value.</summary>
    public List<string?[]> Rows { get; }

    /// <summary>The index of <paramref name="column"/>, or -1.</summary>
    public int IndexOf(string column)
    {
        for (var i = 0; i < Columns.Count; i++)
        {
            if (string.Equals(Columns[i], column, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Reads a whole CSV input (header row required); empty fields become missing values.</summary>
    public static TabularBatch ReadCsv(Stream stream, string? source = null) => ReadCsv(stream, source, TabularLimits.None);

    /// <summary>Reads a whole CSV input, refusing what crosses <paramref name="limits"/>; empty fields become missing values.</summary>
    public static TabularBatch ReadCsv(Stream stream, string? source, TabularLimits limits)
    {
        using var reader = new CsvReader(stream, source, limits);
        var rows = new List<string?[]>();
        while (reader.Read())
        {
            var row = new string?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++)
            {
                var field = reader.GetField(i);
                row[i] = field.IsEmpty ? null : field.ToString();
            }

            rows.Add(row);
        }

        return new TabularBatch(reader.Header, rows);
    }
}
