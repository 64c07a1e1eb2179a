namespace Ctm.Testing.Streams;

/// <summary>Which synthetic stream to generate (see docs/streams.md).</summary>
public enum StreamKind
{
    /// <summary>Card-payment-like events with a binary label <c>label</c> ("0"/"1").</summary>
    Events,

    /// <summary>Station weather reports with a multiclass label <c>condition</c> and a class (<c>snow</c>) that appears mid-stream.</summary>
    Weather,
}

/// <summary>A persistent upstream fault injected into a span of batches.</summary>
public enum Corruption
{
    /// <summary>The batch is as generated.</summary>
    None,

    /// <summary>A numeric column changes unit: Events <c>amount</c> in cents (×100), Weather <c>temperature</c> in Fahrenheit.</summary>
    UnitChange,

    /// <summary>A categorical column's values are renamed: Events <c>weekday</c> "Mon" → "monday", Weather stations "st07" → "WX-07".</summary>
    RenamedCategory,

    /// <summary>Labels are swapped: Events "0" ↔ "1", Weather "rain" ↔ "clear".</summary>
    LabelFlip,
}

/// <summary>A corruption applied to <paramref name="Batches"/> consecutive batches starting at <paramref name="FirstBatch"/> (0-based).</summary>
public sealed record CorruptionSpan(Corruption Kind, int FirstBatch, int Batches)
{
    /// <summary>The batch after the last corrupted one.</summary>
    public int EndBatch => FirstBatch + Batches;

    /// <summary>True when batch <paramref name="index"/> lies in the span.</summary>
    public bool Contains(int index) => index >= FirstBatch && index < EndBatch;
}

/// <summary>What to generate. The same options always give the same bytes.</summary>
public sealed record StreamOptions
{
    /// <summary>Which stream.</summary>
    public StreamKind Kind { get; init; } = StreamKind.Events;

    /// <summary>Number of consecutive batches.</summary>
    public int Batches { get; init; } = 40;

    /// <summary>Rows in every batch (arrival intensity decides how much time a batch covers).</summary>
    public int RowsPerBatch { get; init; } = 500;

    /// <summary>Seed of every random choice.</summary>
    public int Seed { get; init; } = 7;

    /// <summary>Corruptions to inject; spans must not overlap and must lie inside the stream.</summary>
    public IReadOnlyList<CorruptionSpan> Corruptions { get; init; } = [];

    /// <summary>
    /// Events only, null by default (the streams stay as they were): from this batch on, P(label | inputs) changes at once
    /// while the inputs keep their distribution — every feature effect and latent risk enters the log-odds with the
    /// opposite sign (the base-rate offset stays). A concept drift that input checks cannot see, for quality alarms.
    /// </summary>
    public int? ConceptChangeBatch { get; init; }

    /// <summary>
    /// The stream benchmark's binary scenario: 60 batches of 500 rows (about three months), with a unit change
    /// over batches 15-20, a renamed category over 30-33 and a label flip over 44-47, so 46 clean batches.
    /// </summary>
    public static StreamOptions EventsBenchmark { get; } = new()
    {
        Kind = StreamKind.Events,
        Batches = 60,
        RowsPerBatch = 500,
        Corruptions =
        [
            new CorruptionSpan(Corruption.UnitChange, 15, 6),
            new CorruptionSpan(Corruption.RenamedCategory, 30, 4),
            new CorruptionSpan(Corruption.LabelFlip, 44, 4),
        ],
    };

    /// <summary>The stream benchmark's multiclass scenario: 30 clean batches of 500 rows; <c>snow</c> first appears around batch 10-12.</summary>
    public static StreamOptions WeatherBenchmark { get; } = new()
    {
        Kind = StreamKind.Weather,
        Batches = 30,
        RowsPerBatch = 500,
    };

    /// <summary>
    /// The quality-alarm benchmark's stream: 30 clean Events batches of 500 rows whose P(label | inputs) turns around at
    /// batch 20 (<see cref="ConceptChangeBatch"/>).
    /// </summary>
    public static StreamOptions ConceptBenchmark { get; } = new()
    {
        Kind = StreamKind.Events,
        Batches = 30,
        RowsPerBatch = 500,
        ConceptChangeBatch = 20,
    };

    /// <summary>The corruption applied to batch <paramref name="index"/>.</summary>
    public Corruption CorruptionAt(int index)
    {
        foreach (var span in Corruptions)
        {
            if (span.Contains(index))
            {
                return span.Kind;
            }
        }

        return Corruption.None;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first problem with these options.</summary>
    public void Validate()
    {
        if (Batches < 1)
        {
            throw new ArgumentException($"StreamOptions.Batches must be at least 1 (was {Batches}).");
        }

        if (RowsPerBatch < 1)
        {
            throw new ArgumentException($"StreamOptions.RowsPerBatch must be at least 1 (was {RowsPerBatch}).");
        }

        if (ConceptChangeBatch is { } change && (Kind != StreamKind.Events || change < 1 || change >= Batches))
        {
            throw new ArgumentException($"StreamOptions.ConceptChangeBatch must lie inside batches 1-{Batches - 1} of an Events stream (was {change}, {Kind}).");
        }

        ArgumentNullException.ThrowIfNull(Corruptions);
        for (var i = 0; i < Corruptions.Count; i++)
        {
            var span = Corruptions[i];
            if (span.Kind == Corruption.None || span.Batches < 1 || span.FirstBatch < 0 || span.EndBatch > Batches)
            {
                throw new ArgumentException(
                    $"Corruption span {i} ({span.Kind}, first batch {span.FirstBatch}, {span.Batches} batches) must name a corruption and lie inside batches 0-{Batches - 1}.");
            }

            for (var j = 0; j < i; j++)
            {
                if (span.FirstBatch < Corruptions[j].EndBatch && Corruptions[j].FirstBatch < span.EndBatch)
                {
                    throw new ArgumentException($"Corruption spans {j} and {i} overlap: a batch carries at most one corruption.");
                }
            }
        }
    }
}
