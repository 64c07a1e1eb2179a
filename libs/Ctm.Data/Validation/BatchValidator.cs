using System.Globalization;
using Ctm.Data.Drift;
using Ctm.Data.Schema;
using Ctm.Data.Statistics;

namespace Ctm.Data.Validation;

/// <summary>
/// Decides whether a batch is accepted or quarantined, and lists every reason with its severity. Schema faults
/// that break models (a type error, a column gone, non-finite values, missing labels, duplicates) block.
/// Distribution changes are judged against the dataset's own history (<see cref="BatchMeasures"/>, an
/// empirical null per feature and measure): natural variation between batches of a real stream (daily and
/// weekly cycles, label-rate swings) is what the history shows, so it passes; a change far outside it (a unit
/// change, a renamed category) blocks, a moderate one warns, and a moderate one that persists blocks.
/// Domains and ranges grow: unseen values in a small share of rows, or a little outside the range, are
/// accepted with a warning and a <see cref="ValidationDecision.SchemaChanges"/> entry that widens the schema.
/// </summary>
/// <param name="options">Default thresholds, or null for <see cref="ValidationOptions.Default"/>.</param>
public sealed class BatchValidator(ValidationOptions? options = null)
{
    private readonly ValidationOptions _options = options ?? ValidationOptions.Default;

    /// <summary>
    /// Validates a batch's statistics (computed with <paramref name="schema"/>) against the schema, the recent
    /// accepted window, the history of earlier batches' measures and the hashes of batches ingested before.
    /// </summary>
    /// <param name="batch">The batch's statistics.</param>
    /// <param name="schema">The dataset's current schema.</param>
    /// <param name="window">The merged statistics of recent accepted batches (the reference), or null when there are none yet.</param>
    /// <param name="batchSha256">The SHA-256 of the batch's bytes (see <see cref="BatchHash"/>), or null.</param>
    /// <param name="knownHashes">Hashes of batches ingested before, or null.</param>
    /// <param name="history">Measures of the batches decided before, oldest first (accepted and quarantined), or null for none.</param>
    public ValidationDecision Validate(
        BatchStatistics batch, DataSchema schema, BatchStatistics? window = null, string? batchSha256 = null, IEnumerable<string>? knownHashes = null, IReadOnlyList<BatchMeasures>? history = null)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(schema);
        history ??= [];
        var anomalies = new List<Anomaly>();
        var measures = new BatchMeasures();
        var changes = new List<SchemaChange>();
        if (batchSha256 is not null && knownHashes is not null && knownHashes.Contains(batchSha256, StringComparer.OrdinalIgnoreCase))
        {
            anomalies.Add(new Anomaly(null, AnomalyKind.DuplicateBatch, 1, 0, F($"The batch is a duplicate: its SHA-256 {batchSha256} matches a batch ingested before.")));
        }

        var context = new Context(history, measures, anomalies, changes, _options.Drift);
        CheckSchema(batch, schema, context);
        if (window is not null)
        {
            CheckRowCount(batch, window, anomalies);
            if (_options.CheckDrift)
            {
                CheckDrift(window, batch, schema, context);
            }
        }

        var decision = ValidationDecision.From(anomalies, schema.Version);
        return decision with
        {
            Measures = measures with { Accepted = decision.IsAccepted },
            SchemaChanges = decision.IsAccepted ? changes : [],
        };
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

    private void CheckSchema(BatchStatistics batch, DataSchema schema, Context context)
    {
        var anomalies = context.Anomalies;
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

            var thresholds = expected.Drift ?? _options.Drift;
            if (expected.Type == ColumnType.Numeric)
            {
                CheckNumeric(expected, stats, thresholds, context);
            }
            else
            {
                CheckDomain(expected, stats, thresholds, isLabel, context);
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

    private static void CheckNumeric(ColumnSchema expected, ColumnStatistics stats, DriftThresholds thresholds, Context context)
    {
        var anomalies = context.Anomalies;
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

        if (Measures.OutsideRange(expected, stats) is not { } range)
        {
            return;
        }

        context.Record(expected.Name, Measures.OutOfRange, range.Share);
        if (range.Outside == 0)
        {
            return;
        }

        // A range inferred from the first batches is a sample's range: later batches exceed it a little, and that widens it.
        var history = context.AcceptedHistory(expected.Name, Measures.OutOfRange, thresholds.HistoryBatches);
        var limit = history.Count < thresholds.MinHistory
            ? double.PositiveInfinity
            : Math.Max(Math.Max(thresholds.OutOfRangeBlockFloor, expected.MaxOutOfRangeFraction), EmpiricalNull.Fit(history, Measures.SpreadFloor(Measures.OutOfRange)).Limit(thresholds.BlockDeviations));
        var block = range.Share > limit;
        var sentence = F($"{range.Outside} of {numeric.Count} values ({range.Share:P1}) of '{expected.Name}' fall outside [{expected.Min:G6}, {expected.Max:G6}] (batch range [{numeric.Min:G6}, {numeric.Max:G6}])");
        anomalies.Add(new Anomaly(expected.Name, AnomalyKind.OutOfRange, range.Share, double.IsFinite(limit) ? limit : 1,
            block
                ? F($"{sentence}; batches of this dataset have at most {limit:P1} outside it.")
                : F($"{sentence}; within what this dataset's batches show, so the range widens to include them."))
        {
            Severity = block ? Severity.Block : Severity.Warn,
            Measure = Measures.OutOfRange,
            ObservedMin = numeric.Min,
            ObservedMax = numeric.Max,
        });
        if (!block)
        {
            context.Changes.Add(new WidenRange(expected.Name, numeric.Min, numeric.Max));
        }
    }

    private static void CheckDomain(ColumnSchema expected, ColumnStatistics stats, DriftThresholds thresholds, bool isLabel, Context context)
    {
        // A categorical column read as numeric (statistics without the schema) has no value counts to check.
        if (Measures.OutsideDomain(expected, stats) is not { } unseen)
        {
            return;
        }

        context.Record(expected.Name, Measures.Unseen, unseen.Share);
        if (unseen.Outside <= 0)
        {
            return;
        }

        var history = context.AcceptedHistory(expected.Name, Measures.Unseen, thresholds.HistoryBatches);
        var young = isLabel || context.BatchesWithoutNewValues(expected.Name) < thresholds.SettleBatches;
        var floor = young ? thresholds.YoungUnseenBlockFloor : thresholds.UnseenBlockFloor;
        var limit = history.Count < thresholds.MinHistory
            ? double.PositiveInfinity
            : Math.Max(Math.Max(floor, expected.MaxOutOfDomainFraction), EmpiricalNull.Fit(history, Measures.SpreadFloor(Measures.Unseen)).Limit(thresholds.BlockDeviations));
        var block = unseen.Share > limit;
        const int maxListed = 50;
        var complete = unseen.Complete && unseen.Values.Count <= maxListed;
        var examples = unseen.Values.Take(maxListed).ToList();
        var domain = expected.Domain!;
        var what = isLabel ? "new class(es)" : "value(s) outside its domain";
        var sentence = F($"{unseen.Outside} of {stats.Categorical!.Count} values ({unseen.Share:P1}) of '{expected.Name}' are {what} of {domain.Count} values, e.g. {Quote(examples)}");
        var description = block
            ? young
                ? F($"{sentence}; more than {limit:P1} unseen at once is not a domain growing but a replaced or renamed category.")
                : F($"{sentence}; the domain had settled (no new value for {thresholds.SettleBatches}+ batches) and batches of this dataset have at most {limit:P1} unseen, so this looks like a renamed or replaced category.")
            : F($"{sentence}; {(young ? "the domain is still growing" : "a small share")}, so the schema widens to include them.");
        context.Anomalies.Add(new Anomaly(expected.Name, AnomalyKind.OutOfDomain, unseen.Share, double.IsFinite(limit) ? limit : 1, description)
        {
            Severity = block ? Severity.Block : Severity.Warn,
            Measure = Measures.Unseen,
            Examples = examples,
            ExamplesAreComplete = complete,
        });
        if (!block)
        {
            context.Changes.Add(complete ? new AddDomainValues(expected.Name, unseen.Values) : new RelaxDomainMass(expected.Name, Math.Min(1, Math.Ceiling(unseen.Share * 1000) / 1000)));
        }
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

    private static void CheckDrift(BatchStatistics reference, BatchStatistics current, DataSchema schema, Context context)
    {
        foreach (var column in schema.Columns)
        {
            var thresholds = column.Drift ?? context.Defaults;
            if (!thresholds.Enabled || reference.Column(column.Name) is not { } r || current.Column(column.Name) is not { } c)
            {
                continue;
            }

            var isLabel = string.Equals(column.Name, schema.LabelColumn, StringComparison.Ordinal);
            var measured = Measures.Compare(r, c, isLabel, out var result);
            var seeded = false;
            foreach (var (measure, value) in measured)
            {
                context.Record(column.Name, measure, value);
                var history = context.AcceptedHistory(column.Name, measure, thresholds.HistoryBatches);
                if (history.Count < thresholds.MinHistory)
                {
                    seeded = true;
                    SeedJudge(column.Name, measure, value, history.Count, thresholds, result, context);
                    continue;
                }

                var noise = Math.Max(Measures.SpreadFloor(measure), Measures.Noise(measure, result, r.Present, c.Present));
                var nul = EmpiricalNull.Fit(history, noise);
                var key = BatchMeasures.Key(column.Name, measure);
                var deviations = nul.Deviations(value);
                // One-sided CUSUM: each batch adds its deviations beyond the warning level; batches below it drain it.
                var slack = thresholds.WarnDeviations;
                var evidence = Math.Max(0, context.PreviousEvidence(key) + deviations - slack);
                if (evidence > 0)
                {
                    context.Measures.Evidence[key] = evidence;
                }

                if (value <= nul.Limit(thresholds.WarnDeviations))
                {
                    continue;
                }

                context.Measures.Warned.Add(key);
                var block = value > nul.Limit(thresholds.BlockDeviations);
                var evidenceLimit = thresholds.PersistBatches * 0.75 * thresholds.WarnDeviations;
                var persistent = !block && thresholds.PersistBatches > 0 && evidence >= evidenceLimit;
                var text = F($"'{column.Name}' {Describe(measure)} {value:0.####} lies {deviations:0.#} robust standard deviations above what {nul.Count} accepted batches of this dataset showed (median {nul.Median:0.####}, spread {nul.Widened:0.####})");
                var description = block
                    ? F($"{text}: far outside the usual (limit {nul.Limit(thresholds.BlockDeviations):0.####}, {thresholds.BlockDeviations} deviations).")
                    : persistent
                        ? F($"{text}, and the shift has persisted: {evidence:0.#} deviations accumulated over the recent batches (limit {evidenceLimit:0.#}, as {thresholds.PersistBatches} batches each {0.75 * thresholds.WarnDeviations:0.#} deviations beyond the warning level).")
                        : F($"{text}: unusual, but within {thresholds.BlockDeviations} deviations.");
                context.Anomalies.Add(new Anomaly(column.Name, AnomalyKind.Drift, value, nul.Limit(block ? thresholds.BlockDeviations : thresholds.WarnDeviations), description)
                {
                    Severity = block || persistent ? Severity.Block : Severity.Warn,
                    Measure = measure,
                    PValue = measure == Measures.Distance ? result?.PValue : null,
                });
            }

            // While the history is short the test still speaks, as a warning: it flags any difference at large batch sizes.
            if (seeded && result is not null && thresholds.Exceeds(result) && !context.Anomalies.Any(a => a.Feature == column.Name && a.Kind == AnomalyKind.Drift))
            {
                var floor = result.Type == ColumnType.Numeric ? thresholds.JensenShannonFloor : thresholds.LInfinityFloor;
                context.Anomalies.Add(new Anomaly(column.Name, AnomalyKind.Drift, result.Distance, floor,
                    F($"'{column.Name}' differs from the recent accepted window: {result.Measure} {result.Distance:0.####} ≥ {floor} (chi-square p = {result.PValue:0.##E+0}); too little history yet to tell whether batches of this dataset usually differ this much."))
                {
                    Severity = Severity.Warn,
                    Measure = Measures.Distance,
                    PValue = result.PValue,
                });
            }
        }
    }

    // With little history only gross changes block: a median moved by many spreads, a spread scaled many times (a unit change).
    private static void SeedJudge(string feature, string measure, double value, int historyCount, DriftThresholds thresholds, DriftResult? result, Context context)
    {
        var limit = measure switch
        {
            Measures.Location => thresholds.SeedLocation,
            Measures.Scale => Math.Log(thresholds.SeedScale),
            _ => double.PositiveInfinity,
        };
        if (value <= limit)
        {
            return;
        }

        context.Measures.Warned.Add(BatchMeasures.Key(feature, measure));
        context.Anomalies.Add(new Anomaly(feature, AnomalyKind.Drift, value, limit,
            F($"'{feature}' {Describe(measure)} {value:0.####} exceeds {limit:0.####}: a gross change (a unit or scale change), blocked even with only {historyCount} batch(es) of history."))
        {
            Severity = Severity.Block,
            Measure = measure,
            PValue = result?.PValue,
        });
    }

    private static string Describe(string measure) => measure switch
    {
        Measures.Distance => "distance from the recent accepted window (Jensen-Shannon bits or L-infinity)",
        Measures.Location => "median shift, in reference interquartile ranges,",
        Measures.Scale => "spread change |ln(ratio)|",
        Measures.Mean => "mean shift, in reference standard deviations,",
        _ => measure,
    };

    private void CompareDistributions(BatchStatistics reference, BatchStatistics current, DataSchema schema, AnomalyKind kind, List<Anomaly> anomalies)
    {
        const string word = "is skewed from the training baseline";
        foreach (var column in schema.Columns)
        {
            var thresholds = column.Skew ?? _options.Skew;
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
                Measure = Measures.Distance,
            });
        }
    }

    // The state one validation builds up: the history it judges by, and what it measured, found and would widen.
    private sealed class Context(IReadOnlyList<BatchMeasures> history, BatchMeasures measures, List<Anomaly> anomalies, List<SchemaChange> changes, DriftThresholds defaults)
    {
        public BatchMeasures Measures => measures;

        public List<Anomaly> Anomalies => anomalies;

        public List<SchemaChange> Changes => changes;

        public DriftThresholds Defaults => defaults;

        public void Record(string feature, string measure, double value)
        {
            if (!measures.Features.TryGetValue(feature, out var m))
            {
                measures.Features[feature] = m = new Dictionary<string, double>(StringComparer.Ordinal);
            }

            m[measure] = value;
        }

        /// <summary>The measure's values in the most recent accepted batches, oldest first.</summary>
        public List<double> AcceptedHistory(string feature, string measure, int batches)
        {
            var values = new List<double>();
            for (var i = history.Count - 1; i >= 0 && values.Count < batches; i--)
            {
                if (history[i].Accepted && history[i].Get(feature, measure) is { } v)
                {
                    values.Add(v);
                }
            }

            values.Reverse();
            return values;
        }

        /// <summary>How many of the latest accepted batches in a row had no value outside the column's domain.</summary>
        public int BatchesWithoutNewValues(string feature)
        {
            var count = 0;
            for (var i = history.Count - 1; i >= 0; i--)
            {
                if (!history[i].Accepted)
                {
                    continue;
                }

                if (history[i].Get(feature, Ctm.Data.Drift.Measures.Unseen) is not 0.0)
                {
                    break;
                }

                count++;
            }

            return count;
        }

        /// <summary>The persistent-shift evidence after the latest accepted batch: a quarantined batch's never carries over, so the clean batches after a blocked corruption start afresh.</summary>
        public double PreviousEvidence(string key)
        {
            for (var i = history.Count - 1; i >= 0; i--)
            {
                if (history[i].Accepted)
                {
                    return history[i].Evidence.GetValueOrDefault(key);
                }
            }

            return 0;
        }
    }

    private static string Quote(IEnumerable<string> values) => string.Join(", ", values.Take(5).Select(v => $"'{v}'"));

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
