using System.Text.Json.Serialization;

namespace Ctm.Contracts;

/// <summary>What a dataset's label asks a model to do. On the wire: <c>binary</c>, <c>multiclass</c> or <c>regression</c>.</summary>
/// <remarks>The converter sits on the type so every serializer (the bus's, the HTTP APIs', stored JSON) writes the same names.</remarks>
[JsonConverter(typeof(JsonStringEnumConverter<TaskKind>))]
public enum TaskKind
{
    /// <summary>Two classes.</summary>
    [JsonStringEnumMemberName("binary")]
    Binary,

    /// <summary>Three or more classes.</summary>
    [JsonStringEnumMemberName("multiclass")]
    Multiclass,

    /// <summary>A real-valued target.</summary>
    [JsonStringEnumMemberName("regression")]
    Regression,
}
