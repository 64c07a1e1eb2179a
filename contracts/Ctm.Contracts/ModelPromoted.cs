namespace Ctm.Contracts;

/// <summary>A version is now the one to serve for its dataset. Every Predictor replica receives it (fan-out).</summary>
public sealed record ModelPromoted
{
    /// <summary>The dataset (the model name in prediction URLs).</summary>
    public required string Dataset { get; init; }
    /// <summary>The version to serve.</summary>
    public required int Version { get; init; }
    /// <summary>Correlation id of what caused the promotion.</summary>
    public required Guid CorrelationId { get; init; }
    /// <summary>
    /// Monotonic per dataset: a replica ignores a promotion whose generation is not newer than the one it serves,
    /// so out-of-order delivery cannot bring back an older decision.
    /// </summary>
    public required long Generation { get; init; }
    /// <summary>Where the Registry serves the artifact.</summary>
    public required string ArtifactLocation { get; init; }
    /// <summary>SHA-256 the artifact must have.</summary>
    public required string ArtifactSha256 { get; init; }
    /// <summary>Why: <c>trained</c>, <c>rollback</c>, <c>manual</c> (an operator's approval) or <c>external</c> (an uploaded model the policy promoted).</summary>
    public required string Reason { get; init; }
    /// <summary>The training run that made the version, or null for a model registered from outside.</summary>
    public Guid? RunId { get; init; }
    /// <summary>When the promotion was committed.</summary>
    public required DateTimeOffset PromotedAt { get; init; }
    /// <summary>
    /// For a model registered from outside whose input names differ from the dataset's features: model input name →
    /// the instance field (dataset feature) that feeds it; a matrix input [N,k] maps to k comma-separated features in
    /// column order. Null when every input is named after its feature.
    /// </summary>
    public IReadOnlyDictionary<string, string>? InputMapping { get; init; }
    /// <summary>
    /// The Registry's ECDSA P-256 signature (SHA-256, IEEE P1363, base64) over dataset, version, generation, artifact
    /// SHA-256 and input mapping (<c>Ctm.ServiceDefaults.Signing.SignedPayload.Promotion</c>). A Predictor loads only a
    /// promotion whose signature verifies with the Registry's public key; null (from an older Registry) is refused.
    /// </summary>
    public string? Signature { get; init; }
}
