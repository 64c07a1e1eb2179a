using System.Globalization;
using System.Text.Json.Serialization;

namespace Ctm.Data.Schema;

/// <summary>One operator change to a schema; applying any set of them produces the next schema version.</summary>
/// <param name="Feature">The column the change is about.</param>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "op")]
[JsonDerivedType(typeof(RelaxDomainMass), "relaxDomainMass")]
[JsonDerivedType(typeof(AddDomainValues), "addDomainValues")]
[JsonDerivedType(typeof(WidenRange), "widenRange")]
[JsonDerivedType(typeof(MarkOptional), "markOptional")]
[JsonDerivedType(typeof(AddColumn), "addColumn")]
public abstract record SchemaChange(string Feature)
{
    /// <summary>A sentence describing the change for an operator.</summary>
    public abstract string Describe();

    internal abstract ColumnSchema Apply(ColumnSchema column);
}

/// <summary>Allows up to <paramref name="MaxOutOfDomainFraction"/> of a categorical column's values outside its domain.</summary>
/// <param name="Feature">The column.</param>
/// <param name="MaxOutOfDomainFraction">The new allowed fraction, 0 to 1.</param>
public sealed record RelaxDomainMass(string Feature, double MaxOutOfDomainFraction) : SchemaChange(Feature)
{
    /// <inheritdoc/>
    public override string Describe() => string.Create(CultureInfo.InvariantCulture, $"allow up to {MaxOutOfDomainFraction:P1} of '{Feature}' outside its domain");

    internal override ColumnSchema Apply(ColumnSchema column) =>
        column with { MaxOutOfDomainFraction = Math.Clamp(Math.Max(column.MaxOutOfDomainFraction, MaxOutOfDomainFraction), 0, 1) };
}

/// <summary>Adds values to a categorical column's domain.</summary>
/// <param name="Feature">The column.</param>
/// <param name="Values">The values to allow.</param>
public sealed record AddDomainValues(string Feature, IReadOnlyList<string> Values) : SchemaChange(Feature)
{
    /// <inheritdoc/>
    public override string Describe() => $"add {Values.Count} value(s) to the domain of '{Feature}': {string.Join(", ", Values.Take(10).Select(v => $"'{v}'"))}{(Values.Count > 10 ? ", …" : "")}";

    internal override ColumnSchema Apply(ColumnSchema column) =>
        column.Domain is null ? column : column with { Domain = [.. column.Domain.Union(Values, StringComparer.Ordinal).Order(StringComparer.Ordinal)] };
}

/// <summary>Widens a numeric column's expected range to include [<paramref name="Min"/>, <paramref name="Max"/>].</summary>
/// <param name="Feature">The column.</param>
/// <param name="Min">A value the range must include at its low end.</param>
/// <param name="Max">A value the range must include at its high end.</param>
public sealed record WidenRange(string Feature, double Min, double Max) : SchemaChange(Feature)
{
    /// <inheritdoc/>
    public override string Describe() => string.Create(CultureInfo.InvariantCulture, $"widen the range of '{Feature}' to include [{Min:G6}, {Max:G6}]");

    internal override ColumnSchema Apply(ColumnSchema column) => column with
    {
        Min = column.Min is { } min ? Math.Min(min, Min) : null,
        Max = column.Max is { } max ? Math.Max(max, Max) : null,
    };
}

/// <summary>Lowers the fraction of rows that must carry a value (0 makes the column optional).</summary>
/// <param name="Feature">The column.</param>
/// <param name="MinPresence">The new required fraction, 0 to 1.</param>
public sealed record MarkOptional(string Feature, double MinPresence = 0) : SchemaChange(Feature)
{
    /// <inheritdoc/>
    public override string Describe() => MinPresence <= 0
        ? $"make '{Feature}' optional"
        : string.Create(CultureInfo.InvariantCulture, $"require '{Feature}' in only {MinPresence:P1} of rows");

    internal override ColumnSchema Apply(ColumnSchema column) => column with { MinPresence = Math.Clamp(Math.Min(column.MinPresence, MinPresence), 0, 1) };
}

/// <summary>Adds a column the schema did not know, as optional and without domain or range.</summary>
/// <param name="Feature">The new column.</param>
/// <param name="Type">Its type.</param>
public sealed record AddColumn(string Feature, ColumnType Type) : SchemaChange(Feature)
{
    /// <inheritdoc/>
    public override string Describe() => $"add the {Type.ToString().ToLowerInvariant()} column '{Feature}' as optional";

    internal override ColumnSchema Apply(ColumnSchema column) => column;
}
