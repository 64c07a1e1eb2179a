namespace Ctm.Data.Validation;

/// <summary>What an anomaly does to its batch.</summary>
public enum Severity
{
    /// <summary>The batch is quarantined: the anomaly would break or mislead a model (a type error, a column gone, a unit change, a renamed category, a shift far outside the dataset's usual spread).</summary>
    Block,

    /// <summary>The batch is accepted and the anomaly is recorded with the decision (a shift within what the dataset's batches usually show at the edge, a young domain growing, a range widened).</summary>
    Warn,
}
