namespace Ctm.Contracts;

/// <summary>One prediction of a <see cref="PredictionsComputed"/> chunk.</summary>
public sealed record KeyedPrediction
{
    /// <summary>The key of the instance it answers.</summary>
    public required string Key { get; init; }
    /// <summary>The prediction as JSON, as in the HTTP <c>predictions</c> array, or null when <see cref="Error"/> is set.</summary>
    public string? Json { get; init; }
    /// <summary>Why this instance could not be predicted (e.g. a missing feature), or null.</summary>
    public string? Error { get; init; }
}
