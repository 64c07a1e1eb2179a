namespace Ctm.Contracts;

/// <summary>
/// A Predictor replica's statistics of the inputs it served (sampled), in the Validator's statistics form,
/// for skew detection against the serving version's training baseline.
/// </summary>
public sealed record ServingStatisticsReported
{
    /// <summary>The dataset (model name).</summary>
    public required string Dataset { get; init; }
    /// <summary>The version that served these inputs.</summary>
    public required int ModelVersion { get; init; }
    /// <summary>The reporting replica.</summary>
    public required string Replica { get; init; }
    /// <summary>Start of the reporting window.</summary>
    public required DateTimeOffset WindowStart { get; init; }
    /// <summary>End of the reporting window.</summary>
    public required DateTimeOffset WindowEnd { get; init; }
    /// <summary>Rows included in the statistics (after sampling).</summary>
    public required long SampledRows { get; init; }
    /// <summary>Requests served in the window (before sampling).</summary>
    public required long ServedRows { get; init; }
    /// <summary>The statistics as serialized by <c>Ctm.Data.Statistics.BatchStatistics.ToJson()</c>.</summary>
    public required string Statistics { get; init; }
    /// <summary>Correlation id.</summary>
    public required Guid CorrelationId { get; init; }
}
