using System.Globalization;
using Ctm.Data.Drift;
using Ctm.Data.Schema;
using Ctm.Data.Statistics;

namespace Ctm.Data.Validation;

/// <summary>
/// Decides whether a batch is accepted or quarantined, and lists every reason. Checks that depend on sample
/// size are tests, not raw comparisons: a small batch is not condemned for the noise that small samples
/// have, and a large batch is not condemned for a difference too small to matter.
/// </summary>
/// <param name="options">Default thresholds, or null for <see cref="ValidationOptions.Default"/>.</param>
public sealed class BatchValidator(ValidationOptions? options = null)
{
    private readonly ValidationOptions _options = options ?? ValidationOptions.Default;

    /// <summary>
    /// Validates a batch's statistics (computed with <paramref name="schema"/>) against the schema, the recent
    /// accepted window (drift, row count) and the hashes of batches already ingested (duplicates).
    /// </summary>
    /// <param name="batch">The batch's statistics.</param>
    /// <param name="schema">The dataset's current schema.</param>
    /// <param name="window">The merged statistics of recent accepted batches, or null when there are none yet.</param>
    /// <param name="batchSha256">The SHA-256 of the batch's bytes (see <see cref="BatchHash"/>), or null.</param>
    /// <param name="knownHashes">Hashes of batches ingested before, or null.</param>
    public ValidationDecision Validate(BatchStatistics batch, DataSchema schema, BatchStatistics? window = null, string? batchSha256 = null, IEnumerable<string>? knownHashes = null)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(schema);
        var anomalies = new List<Anomaly>();
        if (batchSha256 is not null && knownHashes is not null && knownHashes.Contains(batchSha256, StringComparer.OrdinalIgnoreCase))
        {
            anomalies.Add(new Anomaly(null, AnomalyKind.DuplicateBatch, 1, 0, F($"The batch is a duplicate: its SHA-256 {batchSha256} matches a batch ingested before.")));
        }

        CheckSchema(batch, schema, anomalies);
        if (window is not null)
        {
            CheckRowCount(batch, window, anomalies);
            if (_options.CheckDrift)
            {
                CompareDistributions(window, batch, schema, AnomalyKind.Drift, anomalies);
            }
        }

        return ValidationDecision.From(anomalies, schema.Version);
    }

    /// <summary>Compares serving statistics with the training baseline of the model that serves them (skew).</summary>
    /// <param name="training">The merged statistics of the batches the model was trained on.</param>
    /// <param name="serving">Statistics of the inputs the model received in serving.</param>
    /// <param name="schema">The schema (for per-feature skew thresholds and the label, which serving lacks).</param>
    public ValidationDecision CheckSkew(BatchStatistics training, BatchStatistics serving, DataSchema schema)
    {
        ArgumentNullException.ThrowIfNull(training);
        ArgumentNullException.ThrowIfNull(serving);
        ArgumentNullException.ThrowIfNull(schema);
        var anomalies = new List<Anomaly>();
        CompareDistributions(training, serving, schema, AnomalyKind.Skew, anomalies);
        return ValidationDecision.From(anomalies, schema.Version);
    }

    private void CheckSchema(BatchStatistics batch, DataSchema schema, List<Anomaly> anomalies)
    {
        var rows = batch.RowCount;
        foreach (var expected in schema.Columns)
        {
            var isLabel = string.Equals(expected.Name, schema.LabelColumn, StringComparison.Ordinal);
            var stats = batch.Column(expected.Name);
            if (stats is null)
            {
                if (expected.MinPresence > 0 || isLabel)
                {
                    anomalies.Add(new Anomaly(expected.Name, AnomalyKind.MissingColumn, 0, expected.MinPresence,
                        F($"Column '{expected.Name}' is missing from the batch; the schema requires it in {expected.MinPresence:P0} of rows.")));
                }

                if (isLabel)
                {
                    anomalies.Add(new Anomaly(expected.Name, AnomalyKind.MissingLabels, 1, _options.MaxMissingLabelFraction,
                        F($"No row has a label: the label column '{expected.Name}' is missing.")));
                }

                continue;
            }

            if (rows == 0)
            {
                continue;
            }

            var present = stats.Present;
            var presence = (double)present / rows;
            if (isLabel)
            {
                var missingFraction = 1 - presence;
                if (missingFraction > _options.MaxMissingLabelFraction)
                {
                    anomalies.Add(new Anomaly(expected.Name, AnomalyKind.MissingLabels, missingFraction, _options.MaxMissingLabelFraction,
                        F($"{rows - present} of {rows} rows ({missingFraction:P1}) have no label in '{expected.Name}'; at most {_options.MaxMissingLabelFraction:P1} may lack one.")));
                }
            }
            else if (presence < expected.MinPresence)
            {
                // Required columns tolerate no gap; partial presence is tested so that a small batch's bad luck is not an anomaly.
                var p = expected.MinPresence >= 1 ? 0 : Probability.BinomialLowerTail(present, rows, expected.MinPresence);
                if (p < _options.Significance)
                {
                    anomalies.Add(new Anomaly(expected.Name, AnomalyKind.PresenceBelowRequired, presence, expected.MinPresence,
                        F($"Column '{expected.Name}' has a value in {presence:P1} of rows ({present} of {rows}); the schema requires {expected.MinPresence:P1}.")) { PValue = p });
                }
            }

            if (expected.Type == ColumnType.Numeric)
            {
                CheckNumeric(expected, stats, anomalies);
            }
            else
            {
                CheckCategorical(expected, stats, anomalies);
            }
        }

        foreach (var column in batch.Columns)
        {
            if (schema.Find(column.Name) is null)
            {
                anomalies.Add(new Anomaly(column.Name, AnomalyKind.UnexpectedColumn, (double)column.Present / Math.Max(1, rows), 0,
                    F($"Column '{column.Name}' is not in schema version {schema.Version}.")) { ObservedType = column.Type });
            }
        }
    }

    private void CheckNumeric(ColumnSchema expected, ColumnStatistics stats, List<Anomaly> anomalies)
    {
        var numeric = stats.Numeric;
        var present = stats.Present;
        if (numeric is null || stats.NonNumeric > 0)
        {
            var bad = numeric is null ? present : stats.NonNumeric;
            var fraction = (double)bad / Math.Max(1, present);
            var examples = stats.NonNumericExamples.Count > 0 ? stats.NonNumericExamples : (IReadOnlyList<string>)(stats.Categorical?.Top(5).Select(p => p.Key).ToList() ?? []);
            anomalies.Add(new Anomaly(expected.Name, AnomalyKind.TypeMismatch, fraction, 0,
                F($"Column '{expected.Name}' should be numeric, but {bad} of {present} values ({fraction:P1}) are not numbers, e.g. {Quote(examples)}.")) { Examples = examples });
        }

        if (numeric is null)
        {
            return;
        }

        var total = numeric.Count + numeric.NonFinite;
        if (numeric.NonFinite > 0 && !expected.AllowNonFinite)
        {
            var fraction = (double)numeric.NonFinite / total;
            anomalies.Add(new Anomaly(expected.Name, AnomalyKind.NonFiniteValues, fraction, 0,
                F($"Column '{expected.Name}' has {numeric.NaN} NaN and {numeric.Infinity} infinite values ({fraction:P1}); the schema allows none.")));
        }

        if (numeric.Count == 0 || (expected.Min is null && expected.Max is null))
        {
            return;
        }

        // Bounds act at the sketch's bucket resolution (1% relative), so the count is exact and mergeable.
        long outside = 0;
        if (expected.Min is { } min && numeric.Min < min)
        {
            outside += numeric.Sketch.CountBelowKey(QuantileSketch.KeyOf(min));
        }

        if (expected.Max is { } max && numeric.Max > max)
        {
            outside += numeric.Sketch.CountAboveKey(QuantileSketch.KeyOf(max));
        }

        var outFraction = (double)outside / numeric.Count;
        if (outside > 0 && outFraction > expected.MaxOutOfRangeFraction)
        {
            var p = Probability.BinomialUpperTail(outside, numeric.Count, expected.MaxOutOfRangeFraction);
            if (p < _options.Significance)
            {
                anomalies.Add(new Anomaly(expected.Name, AnomalyKind.OutOfRange, outFraction, expected.MaxOutOfRangeFraction,
                    F($"{outside} of {numeric.Count} values ({outFraction:P1}) of '{expected.Name}' fall outside [{expected.Min:G6}, {expected.Max:G6}] (batch range [{numeric.Min:G6}, {numeric.Max:G6}]); at most {expected.MaxOutOfRangeFraction:P2} may."))
                {
                    PValue = p,
                    ObservedMin = numeric.Min,
                    ObservedMax = numeric.Max,
                });
            }
        }
    }

    private void CheckCategorical(ColumnSchema expected, ColumnStatistics stats, List<Anomaly> anomalies)
    {
        // A categorical column read as numeric (statistics without the schema) has no value counts to check.
        if (expected.Domain is not { } domain || stats.Categorical is not { Count: > 0 } categorical)
        {
            return;
        }

        var allowed = new HashSet<string>(domain, StringComparer.Ordinal);
        var inDomain = domain.Sum(categorical.CountOf);
        var outside = categorical.Count - inDomain;
        var fraction = (double)outside / categorical.Count;
        if (outside <= 0 || fraction <= expected.MaxOutOfDomainFraction)
        {
            return;
        }

        var p = Probability.BinomialUpperTail(outside, categorical.Count, expected.MaxOutOfDomainFraction);
        if (p >= _options.Significance)
        {
            return;
        }

        var unknown = categorical.Counts.Where(kv => !allowed.Contains(kv.Key)).OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key).ToList();
        const int maxListed = 50;
        var complete = categorical.IsExact && unknown.Count <= maxListed;
        var examples = unknown.Take(maxListed).ToList();
        anomalies.Add(new Anomaly(expected.Name, AnomalyKind.OutOfDomain, fraction, expected.MaxOutOfDomainFraction,
            F($"{outside} of {categorical.Count} values ({fraction:P1}) of '{expected.Name}' are outside its domain of {domain.Count} values, e.g. {Quote(examples)}; at most {expected.MaxOutOfDomainFraction:P2} may be."))
        {
            PValue = p,
            Examples = examples,
            ExamplesAreComplete = complete,
        });
    }

    private void CheckRowCount(BatchStatistics batch, BatchStatistics window, List<Anomaly> anomalies)
    {
        if (window.BatchCount < _options.MinWindowBatchesForRowCount || window.BatchRowCountMean <= 0)
        {
            return;
        }

        var usual = window.BatchRowCountMean;
        var ratio = Math.Max(batch.RowCount / usual, usual / Math.Max(1, batch.RowCount));
        if (ratio > _options.RowCountFactor)
        {
            anomalies.Add(new Anomaly(null, AnomalyKind.RowCount, batch.RowCount, usual,
                F($"The batch has {batch.RowCount} rows, {ratio:0.#}× {(batch.RowCount < usual ? "fewer" : "more")} than the usual {usual:0} (limit {_options.RowCountFactor}×).")));
        }
    }

    private void CompareDistributions(BatchStatistics reference, BatchStatistics current, DataSchema schema, AnomalyKind kind, List<Anomaly> anomalies)
    {
        var word = kind == AnomalyKind.Drift ? "drifted from the recent accepted window" : "is skewed from the training baseline";
        foreach (var column in schema.Columns)
        {
            var thresholds = (kind == AnomalyKind.Drift ? column.Drift : column.Skew) ?? (kind == AnomalyKind.Drift ? _options.Drift : _options.Skew);
            if (!thresholds.Enabled || reference.Column(column.Name) is not { } r || current.Column(column.Name) is not { } c)
            {
                continue;
            }

            if (DriftDetector.Compare(r, c) is not { } result || !result.Exceeds(thresholds))
            {
                continue;
            }

            var floor = result.Type == ColumnType.Numeric ? thresholds.JensenShannonFloor : thresholds.LInfinityFloor;
            var measure = result.Type == ColumnType.Numeric
                ? F($"Jensen-Shannon divergence {result.Distance:0.####} bits (PSI {result.Psi:0.###})")
                : F($"L-infinity distance {result.Distance:0.####}");
            anomalies.Add(new Anomaly(column.Name, kind, result.Distance, floor,
                F($"'{column.Name}' {word}: {measure} ≥ {floor}, where samples of {result.ReferenceCount} and {result.CurrentCount} values from one distribution typically differ by {result.ExpectedNullDistance:0.####}; chi-square p = {result.PValue:0.##E+0} < {thresholds.Significance}."))
            {
                PValue = result.PValue,
            });
        }
    }

    private static string Quote(IEnumerable<string> values) => string.Join(", ", values.Take(5).Select(v => $"'{v}'"));

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
