using System.Globalization;
using System.Text.Json;
using Ctm.Data.Statistics;
using Ctm.Data.Validation;

namespace Ctm.Data.Schema;

/// <summary>
/// What a dataset's batches must look like: columns with types, presence, domains and ranges, and the label.
/// Immutable and versioned: every change through <see cref="Apply"/> yields version + 1. Serializable with
/// <see cref="ToJson"/> / <see cref="FromJson"/>.
/// </summary>
public sealed record DataSchema
{
    /// <summary>The schema version, starting at 1.</summary>
    public int Version { get; init; } = 1;

    /// <summary>The label column's name, from the dataset's configuration, or null.</summary>
    public string? LabelColumn { get; init; }

    /// <summary>The expected columns.</summary>
    public required IReadOnlyList<ColumnSchema> Columns { get; init; }

    /// <summary>The column called <paramref name="name"/>, or null.</summary>
    public ColumnSchema? Find(string name) => Columns.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.Ordinal));

    /// <summary>
    /// Infers a version-1 schema from the statistics of the first accepted data: a column is numeric when
    /// every present value parsed as a number; a column never missing is required, otherwise its presence
    /// floor is the observed fraction less a sampling margin; categorical columns with at most
    /// <see cref="SchemaInferenceOptions.MaxDomainSize"/> values get that domain (identifiers, whose values are
    /// nearly all seen once, get none), with room for unseen values estimated by Good–Turing (values seen once /
    /// values); numeric columns get their observed range. Neither is frozen: the Validator widens both as
    /// accepted batches bring new values (<see cref="Validation.ValidationDecision.SchemaChanges"/>).
    /// </summary>
    /// <param name="statistics">Statistics computed without a schema (or merged from several batches).</param>
    /// <param name="labelColumn">The label column's name; defaults to the one recorded in the statistics.</param>
    /// <param name="options">Inference settings, or null for the defaults.</param>
    public static DataSchema Infer(BatchStatistics statistics, string? labelColumn = null, SchemaInferenceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(statistics);
        options ??= SchemaInferenceOptions.Default;
        var columns = new List<ColumnSchema>();
        foreach (var stats in statistics.Columns)
        {
            var rows = Math.Max(1, statistics.RowCount);
            var present = stats.Present;
            var presence = (double)present / rows;
            var minPresence = stats.Missing == 0 && stats.Count == statistics.RowCount
                ? 1.0
                : Math.Max(0, Math.Floor((presence - Math.Max(0.02, 4 * Math.Sqrt(presence * (1 - presence) / rows))) * 100) / 100);

            if (stats.Type == ColumnType.Numeric && stats.Numeric is { } numeric)
            {
                var finite = numeric.Count;
                var infer = options.InferRanges && finite > 0;
                columns.Add(new ColumnSchema
                {
                    Name = stats.Name,
                    Type = ColumnType.Numeric,
                    MinPresence = minPresence,
                    Min = infer ? numeric.Min : null,
                    Max = infer ? numeric.Max : null,
                    MaxOutOfRangeFraction = infer ? Math.Min(0.1, options.RangeExceedanceRows / finite) : 0,
                    AllowNonFinite = numeric.NonFinite > 0,
                });
            }
            else
            {
                var categorical = stats.Categorical;
                var singletons = categorical is null ? 0 : categorical.Counts.Values.Count(c => c == 1);
                // An identifier (nearly every value seen once) has no domain to grow into; a column with hundreds of repeating values has.
                var identifier = categorical is not null && categorical.Counts.Count >= 50 && singletons >= 0.95 * categorical.Counts.Count;
                var withDomain = categorical is { IsExact: true } && !identifier && categorical.Counts.Count <= options.MaxDomainSize && categorical.Count > 0;
                columns.Add(new ColumnSchema
                {
                    Name = stats.Name,
                    Type = ColumnType.Categorical,
                    MinPresence = minPresence,
                    Domain = withDomain ? [.. categorical!.Counts.Keys.Order(StringComparer.Ordinal)] : null,
                    MaxOutOfDomainFraction = withDomain ? (double)singletons / categorical!.Count : 0,
                });
            }
        }

        return new DataSchema { Version = 1, LabelColumn = labelColumn ?? statistics.LabelColumn, Columns = columns };
    }

    /// <summary>Applies operator changes; the result has <see cref="Version"/> + 1 (the same schema when there are none).</summary>
    /// <exception cref="ArgumentException">A change names a column the schema lacks.</exception>
    public DataSchema Apply(IEnumerable<SchemaChange> changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        var list = changes.ToList();
        if (list.Count == 0)
        {
            return this;
        }

        var columns = Columns.ToList();
        foreach (var change in list)
        {
            var index = columns.FindIndex(c => string.Equals(c.Name, change.Feature, StringComparison.Ordinal));
            if (change is AddColumn add)
            {
                if (index < 0)
                {
                    columns.Add(new ColumnSchema { Name = add.Feature, Type = add.Type, MinPresence = 0 });
                }

                continue;
            }

            if (index < 0)
            {
                throw new ArgumentException($"schema version {Version} has no column '{change.Feature}' ({change.Describe()})", nameof(changes));
            }

            columns[index] = change.Apply(columns[index]);
        }

        return this with { Version = Version + 1, Columns = columns };
    }

    /// <summary>
    /// The schema changes that would accept a batch quarantined for schema reasons: domain values or mass,
    /// ranges, presence, new columns. Data faults (type mismatch, NaN, missing labels, row count, duplicates,
    /// drift, skew) get no change: they are the data's problem, not the schema's.
    /// </summary>
    public IReadOnlyList<SchemaChange> ProposeFix(IEnumerable<Anomaly> anomalies)
    {
        ArgumentNullException.ThrowIfNull(anomalies);
        var changes = new List<SchemaChange>();
        foreach (var a in anomalies)
        {
            if (a.Feature is not { } feature)
            {
                continue;
            }

            switch (a.Kind)
            {
                case AnomalyKind.OutOfDomain:
                    if (a.Examples.Count > 0 && a.ExamplesAreComplete)
                    {
                        changes.Add(new AddDomainValues(feature, a.Examples));
                    }
                    else
                    {
                        changes.Add(new RelaxDomainMass(feature, Math.Min(1, Math.Ceiling(a.Measured * 1000) / 1000)));
                    }

                    break;
                case AnomalyKind.OutOfRange when a.ObservedMin is { } min && a.ObservedMax is { } max:
                    changes.Add(new WidenRange(feature, min, max));
                    break;
                case AnomalyKind.PresenceBelowRequired:
                    changes.Add(new MarkOptional(feature, Math.Max(0, Math.Floor(a.Measured * 100) / 100)));
                    break;
                case AnomalyKind.MissingColumn when !string.Equals(feature, LabelColumn, StringComparison.Ordinal):
                    changes.Add(new MarkOptional(feature, 0));
                    break;
                case AnomalyKind.UnexpectedColumn:
                    changes.Add(new AddColumn(feature, a.ObservedType ?? ColumnType.Categorical));
                    break;
                default:
                    break;
            }
        }

        return changes;
    }

    /// <summary>The schema as JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, DataJson.Options);

    /// <summary>Reads a schema written by <see cref="ToJson"/>.</summary>
    public static DataSchema FromJson(string json) =>
        JsonSerializer.Deserialize<DataSchema>(json, DataJson.Options) ?? throw new JsonException("the schema JSON is null");

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"schema v{Version} ({Columns.Count} columns, label {LabelColumn ?? "none"})");
}
