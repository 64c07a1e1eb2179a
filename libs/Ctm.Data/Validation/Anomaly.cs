using Ctm.Data.Schema;

namespace Ctm.Data.Validation;

/// <summary>One reason a batch is not acceptable.</summary>
/// <param name="Feature">The column concerned, or null for the batch as a whole.</param>
/// <param name="Kind">What is wrong.</param>
/// <param name="Measured">The measured value (a fraction, a count, a distance, as <paramref name="Description"/> says).</param>
/// <param name="Threshold">The limit it was compared with.</param>
/// <param name="Description">A sentence a person can read.</param>
public sealed record Anomaly(string? Feature, AnomalyKind Kind, double Measured, double Threshold, string Description)
{
    /// <summary>Whether the anomaly quarantines the batch (<see cref="Severity.Block"/>, the default) or is only recorded (<see cref="Severity.Warn"/>).</summary>
    public Severity Severity { get; init; } = Severity.Block;

    /// <summary>The measure behind a calibrated judgement (<see cref="Drift.Measures"/>), when there was one.</summary>
    public string? Measure { get; init; }

    /// <summary>The p-value of the test behind the decision, when there was one.</summary>
    public double? PValue { get; init; }

    /// <summary>Offending values (out-of-domain values, non-numeric cells).</summary>
    public IReadOnlyList<string> Examples { get; init; } = [];

    /// <summary>True when <see cref="Examples"/> lists every offending value.</summary>
    public bool ExamplesAreComplete { get; init; }

    /// <summary>The batch's smallest value, for range anomalies.</summary>
    public double? ObservedMin { get; init; }

    /// <summary>The batch's largest value, for range anomalies.</summary>
    public double? ObservedMax { get; init; }

    /// <summary>The type the batch's column was read as, for unexpected columns.</summary>
    public ColumnType? ObservedType { get; init; }

    /// <inheritdoc/>
    public override string ToString() => Description;
}
