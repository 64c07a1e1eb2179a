using System.Text.Json;
using Ctm.Data.Statistics;

namespace Ctm.Data.Validation;

/// <summary>What to do with a batch.</summary>
public enum ValidationOutcome
{
    /// <summary>The batch may be used for training.</summary>
    Accept,

    /// <summary>The batch is held back; <see cref="ValidationDecision.Anomalies"/> says why.</summary>
    Quarantine,
}

/// <summary>The decision for one batch, with every reason.</summary>
/// <param name="Outcome">Accept or quarantine.</param>
/// <param name="Anomalies">Every anomaly found (empty when accepted).</param>
/// <param name="SchemaVersion">The schema version the batch was checked against.</param>
public sealed record ValidationDecision(ValidationOutcome Outcome, IReadOnlyList<Anomaly> Anomalies, int SchemaVersion)
{
    /// <summary>True when the batch is accepted.</summary>
    public bool IsAccepted => Outcome == ValidationOutcome.Accept;

    /// <summary>One line per reason, or "accepted".</summary>
    public string Summary => IsAccepted ? "accepted" : string.Join(Environment.NewLine, Anomalies.Select(a => a.Description));

    /// <summary>The decision as JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, DataJson.Options);

    /// <summary>Reads a decision written by <see cref="ToJson"/>.</summary>
    public static ValidationDecision FromJson(string json) =>
        JsonSerializer.Deserialize<ValidationDecision>(json, DataJson.Options) ?? throw new JsonException("the decision JSON is null");

    /// <summary>A decision from a list of anomalies: quarantine when there is any.</summary>
    public static ValidationDecision From(IReadOnlyList<Anomaly> anomalies, int schemaVersion) =>
        new(anomalies.Count == 0 ? ValidationOutcome.Accept : ValidationOutcome.Quarantine, anomalies, schemaVersion);
}
