using System.ComponentModel.DataAnnotations;

namespace Ctm.Trainer.Extensions;

/// <summary>
/// Live quality (test-then-train scoring of every labeled batch by the version serving when it arrived) and its
/// alarms, from the <c>Quality</c> section. Limits are in robust standard deviations of the dataset's own history
/// (<see cref="Ctm.Data.Drift.EmpiricalNull"/>), not fixed metric thresholds; defaults were chosen so that 200 seeds
/// of a stable stream raise no alarm (tests/Ctm.Trainer.Tests/QualityDetectorTests.cs).
/// </summary>
public sealed class QualityOptions
{
    public const string Section = "Quality";

    /// <summary>Score accepted batches at all (the series and the alarms need it).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Values of each categorical feature that get a slice (the most frequent).</summary>
    [Range(1, 50)]
    public int TopValuesPerFeature { get; set; } = 5;

    /// <summary>Quantile buckets per numeric feature; the cut points are fixed from the dataset's first scored batch.</summary>
    [Range(2, 20)]
    public int NumericBuckets { get; set; } = 4;

    /// <summary>Batches of history a new batch is judged against (the newest ones).</summary>
    [Range(3, 1000)]
    public int HistoryBatches { get; set; } = 50;

    /// <summary>Batches of history before any alarm: a norm needs enough batches to have seen natural variation.</summary>
    [Range(3, 1000)]
    public int MinHistory { get; set; } = 8;

    /// <summary>Robust standard deviations above the median of the history that the whole's quality must exceed to alarm.</summary>
    [Range(1.0, 100.0)]
    public double Deviations { get; set; } = 5;

    /// <summary>The same for one slice (higher: there are many slices, and each is judged on every batch).</summary>
    [Range(1.0, 100.0)]
    public double SliceDeviations { get; set; } = 6;

    /// <summary>Labeled rows a batch or slice needs before its value counts, in the history or as the value judged.</summary>
    [Range(1, 1_000_000)]
    public int MinRows { get; set; } = 30;

    /// <summary>At most this many slice alarms per batch (the worst), so a broad change does not flood the bus.</summary>
    [Range(1, 100)]
    public int MaxSliceAlerts { get; set; } = 3;

    /// <summary>The smallest robust spread of a metric's history, so a model that is near perfect does not alarm on noise.</summary>
    [Range(0.0, 10.0)]
    public double SpreadFloor { get; set; } = 0.01;

    /// <summary>The version's first scored batches whose predictions form the reference of prediction drift.</summary>
    [Range(1, 100)]
    public int ReferenceBatches { get; set; } = 3;

    /// <summary>Equal-width bins of the predicted probability for the population stability index.</summary>
    [Range(2, 100)]
    public int PredictionBins { get; set; } = 10;

    /// <summary>Robust standard deviations above the median PSI of the history (across versions) that alarm.</summary>
    [Range(1.0, 100.0)]
    public double PsiDeviations { get; set; } = 5;
}
