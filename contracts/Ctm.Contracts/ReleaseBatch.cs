namespace Ctm.Contracts;

/// <summary>An operator's command: let a quarantined batch flow on to training.</summary>
public sealed record ReleaseBatch
{
    /// <summary>The batch.</summary>
    public required Guid BatchId { get; init; }
    /// <summary>The dataset.</summary>
    public required string Dataset { get; init; }
    /// <summary>Who.</summary>
    public required string Operator { get; init; }
    /// <summary>Why.</summary>
    public required string Reason { get; init; }
    /// <summary>Approve the batch's pending schema proposals with the release, so the schema widens with it.</summary>
    public bool? ApplyProposals { get; init; }
    /// <summary>Correlation id.</summary>
    public required Guid CorrelationId { get; init; }
}
