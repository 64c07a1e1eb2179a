using System.Text.Json.Serialization;

namespace Ctm.Registry.Policies;

/// <summary>What became of a version at registration or by an operator; stored (and shown by the APIs) as the member's text.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<VerdictDecision>))]
public enum VerdictDecision
{
    /// <summary>The policy promoted it.</summary>
    [JsonStringEnumMemberName("promoted")]
    Promoted,

    /// <summary>Waiting for an operator (manual policy, or nothing to judge it on).</summary>
    [JsonStringEnumMemberName("pending")]
    Pending,

    /// <summary>Worse than the serving version beyond the noise and the tolerance, or rejected by an operator.</summary>
    [JsonStringEnumMemberName("rejected")]
    Rejected,

    /// <summary>Trained on a batch declared corrupt.</summary>
    [JsonStringEnumMemberName("tainted")]
    Tainted,

    /// <summary>Superseded before it was judged.</summary>
    [JsonStringEnumMemberName("stale")]
    Stale,

    /// <summary>Promoted by an operator.</summary>
    [JsonStringEnumMemberName("approved")]
    Approved,
}
