using System.Text.Json.Serialization;

namespace Ctm.Validator.Storage;

/// <summary>Where a proposed schema change stands; stored (and shown by the schema API) as the member's text.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ProposalStatus>))]
public enum ProposalStatus
{
    /// <summary>Waiting for an operator.</summary>
    [JsonStringEnumMemberName("pending")]
    Pending,

    /// <summary>Applied as a new schema version.</summary>
    [JsonStringEnumMemberName("approved")]
    Approved,

    /// <summary>Refused by an operator.</summary>
    [JsonStringEnumMemberName("rejected")]
    Rejected,
}
