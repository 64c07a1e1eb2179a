using System.Text.Json.Serialization;

namespace Ctm.Registry.Serving;

/// <summary>A live replica's answer to a promotion; shown in rollback and approval answers as the member's text.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ReplicaAnswer>))]
public enum ReplicaAnswer
{
    /// <summary>It serves the promoted generation (or a newer one).</summary>
    [JsonStringEnumMemberName("loaded")]
    Loaded,

    /// <summary>It refused the promoted generation (the reason is given).</summary>
    [JsonStringEnumMemberName("refused")]
    Refused,

    /// <summary>It has not answered yet.</summary>
    [JsonStringEnumMemberName("waiting")]
    Waiting,
}
