using System.Text.Json;
using System.Text.Json.Serialization;
using Ctm.Data.Drift;
using Ctm.Data.Schema;
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
/// <param name="Anomalies">Every anomaly found, blocking and warning.</param>
/// <param name="SchemaVersion">The schema version the batch was checked against.</param>
public sealed record ValidationDecision(ValidationOutcome Outcome, IReadOnlyList<Anomaly> Anomalies, int SchemaVersion)
{
    /// <summary>True when the batch is accepted.</summary>
    public bool IsAccepted => Outcome == ValidationOutcome.Accept;

    /// <summary>How far the batch was from its reference, per feature and measure: the history later batches are judged by.</summary>
    public BatchMeasures? Measures { get; init; }

    /// <summary>Changes that widen the schema to the accepted batch (new domain values, wider ranges); empty when quarantined.</summary>
    public IReadOnlyList<SchemaChange> SchemaChanges { get; init; } = [];

    /// <summary>The anomalies that quarantine the batch.</summary>
    [JsonIgnore]
    public IEnumerable<Anomaly> Blocking => Anomalies.Where(a => a.Severity == Severity.Block);

    /// <summary>The anomalies recorded without quarantining the batch.</summary>
    [JsonIgnore]
    public IEnumerable<Anomaly> Warnings => Anomalies.Where(a => a.Severity == Severity.Warn);

    /// <summary>One line per reason ("accepted" first when the batch is accepted; warnings marked).</summary>
    public string Summary => string.Join(Environment.NewLine,
        (IsAccepted ? ["accepted"] : Array.Empty<string>()).Concat(Anomalies.Select(a => a.Severity == Severity.Warn ? "warning: " + a.Description : a.Description)));

    /// <summary>The decision as JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, DataJson.Options);

    /// <summary>Reads a decision written by <see cref="ToJson"/>.</summary>
    public static ValidationDecision FromJson(string json) =>
        JsonSerializer.Deserialize<ValidationDecision>(json, DataJson.Options) ?? throw new JsonException("the decision JSON is null");

    /// <summary>A decision from a list of anomalies: quarantine when any blocks.</summary>
    public static ValidationDecision From(IReadOnlyList<Anomaly> anomalies, int schemaVersion) =>
        new(anomalies.Any(a => a.Severity == Severity.Block) ? ValidationOutcome.Quarantine : ValidationOutcome.Accept, anomalies, schemaVersion);
}
