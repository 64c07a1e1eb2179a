namespace Ctm.Contracts;

/// <summary>One keyed prediction a Predictor served, as kept for joining with its label later (<see cref="PredictionsServed"/>).</summary>
public sealed record ServedPrediction
{
    /// <summary>The caller's example key (a JSON string key as its text; any other JSON key as its raw JSON).</summary>
    public required string Key { get; init; }
    /// <summary>The version that answered.</summary>
    public required int Version { get; init; }
    /// <summary><c>serving</c> (the promoted version), <c>canary</c> (its share of the traffic split) or <c>shadow</c> (a copy, never returned).</summary>
    public required string Role { get; init; }
    /// <summary>A classifier's predicted label, or null.</summary>
    public string? Label { get; init; }
    /// <summary>A classifier's probability per class, or null.</summary>
    public IReadOnlyDictionary<string, double>? Probabilities { get; init; }
    /// <summary>A regression's predicted value, or null.</summary>
    public double? Value { get; init; }
    /// <summary>When it was served.</summary>
    public required DateTimeOffset ServedAt { get; init; }
}
