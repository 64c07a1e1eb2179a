namespace Ctm.Data.Parsing;

/// <summary>
/// Input that is not a well-formed table. Carries where the problem is, so that an upstream
/// system can fix the exact cell: the source (file or upload name), the 1-based line and column,
/// and the field (column name) when one is known.
/// </summary>
public sealed class TabularFormatException : FormatException
{
    /// <summary>Creates the exception; <paramref name="problem"/> is the reason alone, without the location.</summary>
    public TabularFormatException(string problem, string? source, long line, int column, string? field = null, Exception? inner = null, string? limit = null)
        : base(Describe(problem, source, line, column, field), inner)
    {
        Limit = limit;
        Problem = problem;
        Source = source;
        Line = line;
        Column = column;
        Field = field;
    }

    /// <summary>The reason alone, without the location.</summary>
    public string Problem { get; }

    /// <summary>The name of the input (file name, upload name), if known.</summary>
    public new string? Source { get; }

    /// <summary>1-based line number of the problem.</summary>
    public long Line { get; }

    /// <summary>1-based column (character position within the line) of the problem.</summary>
    public int Column { get; }

    /// <summary>The column name (header field) the problem is in, if known.</summary>
    public string? Field { get; }

    /// <summary>
    /// The <see cref="TabularLimits"/> bound the input crossed (e.g. <c>MaxFieldChars</c>), or null when the input is
    /// malformed rather than too large.
    /// </summary>
    public string? Limit { get; }

    private static string Describe(string problem, string? source, long line, int column, string? field)
    {
        var where = source is null ? $"line {line}, column {column}" : $"{source}: line {line}, column {column}";
        return field is null ? $"{where}: {problem}" : $"{where} (field '{field}'): {problem}";
    }
}
