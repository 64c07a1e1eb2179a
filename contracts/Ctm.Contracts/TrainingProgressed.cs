namespace Ctm.Contracts;

/// <summary>A running training run's progress, published at least once a second.</summary>
public sealed record TrainingProgressed
{
    /// <summary>The run.</summary>
    public required Guid RunId { get; init; }
    /// <summary>The dataset.</summary>
    public required string Dataset { get; init; }
    /// <summary>Correlation id of the run.</summary>
    public required Guid CorrelationId { get; init; }
    /// <summary>Current epoch (1-based).</summary>
    public required int Epoch { get; init; }
    /// <summary>Total epochs.</summary>
    public required int Epochs { get; init; }
    /// <summary>Current training loss.</summary>
    public required double Loss { get; init; }
    /// <summary>Throughput so far.</summary>
    public required double SamplesPerSecond { get; init; }
    /// <summary>Estimated time left.</summary>
    public required TimeSpan EstimatedRemaining { get; init; }
    /// <summary>True on the last event of the run.</summary>
    public bool Completed { get; init; }
}
