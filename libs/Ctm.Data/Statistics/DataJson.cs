using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ctm.Data.Statistics;

/// <summary>The JSON settings for statistics, schemas and decisions (camelCase, enums as names, ±∞ allowed).</summary>
public static class DataJson
{
    /// <summary>The shared serializer options.</summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
