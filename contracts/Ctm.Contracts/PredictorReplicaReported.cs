namespace Ctm.Contracts;

/// <summary>
/// A Predictor replica says it is alive and what it serves, at start, every few seconds, and once more when it stops.
/// The Registry counts the replicas heard from recently as live, and takes what each serves as a confirmation too.
/// </summary>
public sealed record PredictorReplicaReported
{
    /// <summary>The replica.</summary>
    public required string Replica { get; init; }
    /// <summary>When the report was made (the replica's clock).</summary>
    public required DateTimeOffset ReportedAt { get; init; }
    /// <summary>Seconds until the next report: a replica not heard from for a few of these is not live.</summary>
    public required int IntervalSeconds { get; init; }
    /// <summary>The promoted version of each dataset this replica serves now.</summary>
    public required IReadOnlyList<ReplicaServing> Serving { get; init; }
    /// <summary>True in the last report of a replica that is stopping: it is no longer live.</summary>
    public bool? Stopping { get; init; }
    /// <summary>Correlation id.</summary>
    public required Guid CorrelationId { get; init; }
}
