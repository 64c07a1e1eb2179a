using System.ComponentModel.DataAnnotations;

namespace Ctm.Trainer.Extensions;

/// <summary>
/// Label feedback, from the <c>Quality:Feedback</c> section: how long keyed predictions served and labels by key are
/// kept waiting for each other, how much is kept, and when joined predictions make a point of the quality series.
/// </summary>
public sealed class FeedbackOptions
{
    public const string Section = "Quality:Feedback";

    /// <summary>Keep keyed predictions (by when they were served) and labels (by when they arrived) this long; what is still unjoined then is counted and dropped.</summary>
    [Range(0.0001, 8760)]
    public double WindowHours { get; set; } = 24;

    /// <summary>At most this many stored predictions per dataset; past it the oldest go (scored ones first), the unlabeled counted as evicted.</summary>
    [Range(1, 100_000_000)]
    public int MaxPredictionsPerDataset { get; set; } = 1_000_000;

    /// <summary>Labeled predictions of one version and role that make a point of the series...</summary>
    [Range(1, 1_000_000)]
    public int MinRows { get; set; } = 200;

    /// <summary>...or fewer, once the oldest of them has waited this long.</summary>
    [Range(0.1, 86_400)]
    public double MaxWaitSeconds { get; set; } = 300;

    /// <summary>How often joins, scoring and expiry run.</summary>
    [Range(0.1, 3600)]
    public double PollSeconds { get; set; } = 2;

    /// <summary>The fanout exchange upstream systems publish plain JSON label events to.</summary>
    [Required]
    public string Exchange { get; set; } = "ctm.labels";

    /// <summary>The queue the Trainer binds to that exchange.</summary>
    [Required]
    public string Queue { get; set; } = "trainer-label-events";
}
