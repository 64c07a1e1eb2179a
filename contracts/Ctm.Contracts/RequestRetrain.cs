namespace Ctm.Contracts;

/// <summary>A command to train a dataset now, whatever the policy says.</summary>
public sealed record RequestRetrain
{
    /// <summary>Identifies the request; the same id twice has one effect.</summary>
    public required Guid RequestId { get; init; }
    /// <summary>The dataset.</summary>
    public required string Dataset { get; init; }
    /// <summary>Warm-start from this version, or from the serving version when null.</summary>
    public int? FromVersion { get; init; }
    /// <summary>Train from scratch instead of warm-starting.</summary>
    public bool FullRetrain { get; init; }
    /// <summary>Who asked, or which service.</summary>
    public required string RequestedBy { get; init; }
    /// <summary>
    /// Batches to exclude for good before the retrain is recorded (a rollback's corrupt batches), so the run cannot
    /// start before the Trainer knows every exclusion, whichever of the two queues it reads first.
    /// </summary>
    public IReadOnlyList<Guid>? ExcludeBatchIds { get; init; }
    /// <summary>Why <see cref="ExcludeBatchIds"/> are excluded.</summary>
    public string? ExcludeReason { get; init; }
    /// <summary>Correlation id.</summary>
    public required Guid CorrelationId { get; init; }
}
