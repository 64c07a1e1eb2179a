namespace Ctm.Contracts;

/// <summary>
/// A Predictor replica loaded a promoted version and now serves it (swapped in after its hash check and warm-up). The
/// Registry records a promotion as serving only once a replica says so.
/// </summary>
public sealed record ModelLoaded
{
    /// <summary>The dataset (model name).</summary>
    public required string Dataset { get; init; }
    /// <summary>The version now serving on that replica.</summary>
    public required int Version { get; init; }
    /// <summary>The promotion's generation (from <see cref="ModelPromoted.Generation"/>).</summary>
    public required long Generation { get; init; }
    /// <summary>The replica that loaded it.</summary>
    public required string Replica { get; init; }
    /// <summary>SHA-256 of the artifact it verified.</summary>
    public required string ArtifactSha256 { get; init; }
    /// <summary>When the replica swapped it in (its clock).</summary>
    public required DateTimeOffset LoadedAt { get; init; }
    /// <summary>Correlation id of the promotion that asked for the load.</summary>
    public required Guid CorrelationId { get; init; }
    /// <summary><c>static</c> (lookup table) or <c>dynamic</c> (ONNX Runtime with micro-batching), or null.</summary>
    public string? Path { get; init; }
}
