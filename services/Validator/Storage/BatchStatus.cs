using System.Text.Json.Serialization;

namespace Ctm.Validator.Storage;

/// <summary>What the Validator decided about a batch, and what operators did since; stored (and shown by the APIs) as the member's text.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<BatchStatus>))]
public enum BatchStatus
{
    /// <summary>Passed validation: trained on, and part of the drift window and the empirical null.</summary>
    [JsonStringEnumMemberName("accepted")]
    Accepted,

    /// <summary>Held back for an operator: never trained on while it stays so.</summary>
    [JsonStringEnumMemberName("quarantined")]
    Quarantined,

    /// <summary>Released from quarantine by an operator: trained on, but judged abnormal, so not part of the empirical null.</summary>
    [JsonStringEnumMemberName("released")]
    Released,

    /// <summary>Discarded from quarantine by an operator.</summary>
    [JsonStringEnumMemberName("discarded")]
    Discarded,

    /// <summary>Declared corrupt by a rollback in the Registry: final.</summary>
    [JsonStringEnumMemberName("corrupt")]
    Corrupt,

    /// <summary>The batch can never be validated as sent (unreadable, refused by the database): recorded with the reason, never trained on.</summary>
    [JsonStringEnumMemberName("failed")]
    Failed,
}
