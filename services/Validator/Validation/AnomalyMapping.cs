using Ctm.Data.Validation;

namespace Ctm.Validator.Validation;

/// <summary>The library's anomalies in the contract's form: kinds as kebab-case names (<c>missing-column</c>, <c>out-of-domain</c>...).</summary>
public static class AnomalyMapping
{
    private static readonly Dictionary<string, AnomalyKind> KindsByName = Enum.GetValues<AnomalyKind>().ToDictionary(KindName, StringComparer.Ordinal);

    public static string KindName(AnomalyKind kind) => kind switch
    {
        AnomalyKind.MissingColumn => "missing-column",
        AnomalyKind.UnexpectedColumn => "unexpected-column",
        AnomalyKind.TypeMismatch => "type-mismatch",
        AnomalyKind.PresenceBelowRequired => "presence-below-required",
        AnomalyKind.OutOfDomain => "out-of-domain",
        AnomalyKind.OutOfRange => "out-of-range",
        AnomalyKind.NonFiniteValues => "non-finite-values",
        AnomalyKind.MissingLabels => "missing-labels",
        AnomalyKind.RowCount => "row-count",
        AnomalyKind.DuplicateBatch => "duplicate-batch",
        AnomalyKind.Drift => "drift",
        AnomalyKind.Skew => "skew",
        _ => kind.ToString().ToLowerInvariant(),
    };

    public static Contracts.Anomaly ToContract(Anomaly a) => new()
    {
        Feature = a.Feature,
        Kind = KindName(a.Kind),
        Measured = double.IsFinite(a.Measured) ? a.Measured : null,
        Threshold = double.IsFinite(a.Threshold) ? a.Threshold : null,
        Description = a.Description,
        Severity = a.Severity == Severity.Warn ? "warn" : "block",
    };

    public static List<Contracts.Anomaly> ToContract(IEnumerable<Anomaly> anomalies) => [.. anomalies.Select(ToContract)];

    /// <summary>
    /// The contract's anomalies back in the library's form, for rows that kept only those; a kind the library has no
    /// name for (<c>unreadable</c>, recorded by the Validator itself) has no library form and is left out.
    /// </summary>
    public static List<Anomaly> FromContract(IEnumerable<Contracts.Anomaly> anomalies) =>
        [.. anomalies.Select(a => KindsByName.TryGetValue(a.Kind, out var kind)
            ? new Anomaly(a.Feature, kind, a.Measured ?? double.NaN, a.Threshold ?? double.NaN, a.Description) { Severity = a.Severity == "warn" ? Severity.Warn : Severity.Block }
            : null).OfType<Anomaly>()];

    /// <summary>Anomalies a schema change can fix (<see cref="Ctm.Data.Schema.DataSchema.ProposeFix"/>); the rest are the data's faults.</summary>
    public static bool IsSchemaFixable(AnomalyKind kind) =>
        kind is AnomalyKind.OutOfDomain or AnomalyKind.OutOfRange or AnomalyKind.PresenceBelowRequired or AnomalyKind.MissingColumn or AnomalyKind.UnexpectedColumn;
}
