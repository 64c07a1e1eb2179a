namespace Ctm.Contracts;

/// <summary>
/// The serving version's quality on a newly labeled batch (scored before any training on it) fell outside what the
/// dataset's own quality history says is normal: overall, or on one slice while the whole stayed normal. A sign of
/// concept drift (the relation between inputs and label moved) when the inputs' checks passed.
/// </summary>
public sealed record ModelQualityDegraded
{
    /// <summary>The dataset (model name).</summary>
    public required string Dataset { get; init; }
    /// <summary>The version that served when the batch arrived and was scored.</summary>
    public required int Version { get; init; }
    /// <summary>The labeled batch it was scored on.</summary>
    public required Guid BatchId { get; init; }
    /// <summary><c>overall</c>, or <c>slice</c> when one slice degraded while the whole did not.</summary>
    public required string Scope { get; init; }
    /// <summary>For a slice: the feature (or <c>@class</c> for the rows of one class); null overall.</summary>
    public string? Feature { get; init; }
    /// <summary>For a slice: the value, bucket or class; null overall (or for the missing-value slice).</summary>
    public string? Slice { get; init; }
    /// <summary>
    /// The measure that left its norm. Overall: <c>roc_auc</c> (binary) or <c>balanced_accuracy</c> (multiclass), lower
    /// is worse; <c>log_loss_excess</c> (log loss minus the entropy of the batch's label mix) or <c>rmse</c>, higher is
    /// worse. On a slice: <c>log_loss_gap</c> (the slice's log loss minus the whole's) or <c>rmse</c>, higher is worse.
    /// </summary>
    public required string Metric { get; init; }
    /// <summary>Its value on the batch.</summary>
    public required double Value { get; init; }
    /// <summary>The median of the history it was judged against.</summary>
    public required double Median { get; init; }
    /// <summary>The robust spread (1.4826 × MAD, widened for a short history).</summary>
    public required double Spread { get; init; }
    /// <summary>How many spreads the value lies on the worse side of the median (below it for a measure where lower is worse).</summary>
    public required double Deviations { get; init; }
    /// <summary>The value of the measure beyond which it alarms (below the median when lower is worse).</summary>
    public required double Limit { get; init; }
    /// <summary>Batches in the history.</summary>
    public required int History { get; init; }
    /// <summary>Labeled rows behind the value.</summary>
    public required int Rows { get; init; }
    /// <summary>What happened, in one sentence with the numbers.</summary>
    public required string Sentence { get; init; }
    /// <summary>Whether the dataset's policy asked for a retrain because of it.</summary>
    public bool? RetrainRequested { get; init; }
    /// <summary>When it was detected.</summary>
    public required DateTimeOffset DetectedAt { get; init; }
    /// <summary>The batch's correlation id.</summary>
    public required Guid CorrelationId { get; init; }
}
