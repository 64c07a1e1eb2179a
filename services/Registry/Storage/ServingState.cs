using System.Text.Json.Serialization;

namespace Ctm.Registry.Storage;

/// <summary>Where a promotion stands until a replica confirms it; stored as the member's text.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ServingState>))]
public enum ServingState
{
    /// <summary>Promoted; no replica has confirmed it yet.</summary>
    [JsonStringEnumMemberName("pending")]
    Pending,

    /// <summary>A replica loaded it.</summary>
    [JsonStringEnumMemberName("serving")]
    Serving,

    /// <summary>Every live replica refused it.</summary>
    [JsonStringEnumMemberName("refused")]
    Refused,

    /// <summary>A newer promotion came before any replica confirmed it.</summary>
    [JsonStringEnumMemberName("superseded")]
    Superseded,
}
