using System.Text.Json.Serialization;

namespace Ctm.Registry.Lineage;

/// <summary>A batch's status in the lineage, from the events of the other services; stored (and shown) as the member's text.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<BatchState>))]
public enum BatchState
{
    /// <summary>Ingest stored its rows.</summary>
    [JsonStringEnumMemberName("ingested")]
    Ingested,

    /// <summary>The Validator accepted it.</summary>
    [JsonStringEnumMemberName("accepted")]
    Accepted,

    /// <summary>An operator released it from quarantine.</summary>
    [JsonStringEnumMemberName("released")]
    Released,

    /// <summary>The Validator quarantined it.</summary>
    [JsonStringEnumMemberName("quarantined")]
    Quarantined,

    /// <summary>An operator discarded it from quarantine.</summary>
    [JsonStringEnumMemberName("discarded")]
    Discarded,

    /// <summary>Declared corrupt by a rollback: final, whatever arrives later.</summary>
    [JsonStringEnumMemberName("corrupt")]
    Corrupt,
}
