using System.Text.Json.Serialization;

namespace Ctm.Contracts;

/// <summary>How a column's values are read. On the wire: <c>numeric</c> or <c>categorical</c>.</summary>
/// <remarks>The converter sits on the type so every serializer (the bus's, the HTTP APIs', stored JSON) writes the same names.</remarks>
[JsonConverter(typeof(JsonStringEnumConverter<ColumnKind>))]
public enum ColumnKind
{
    /// <summary>Numbers.</summary>
    [JsonStringEnumMemberName("numeric")]
    Numeric,

    /// <summary>Values from a set of names.</summary>
    [JsonStringEnumMemberName("categorical")]
    Categorical,
}
