namespace Ctm.Contracts;

/// <summary>One dataset's promoted version on a replica, in <see cref="PredictorReplicaReported"/>.</summary>
public sealed record ReplicaServing
{
    /// <summary>The dataset.</summary>
    public required string Dataset { get; init; }
    /// <summary>The version serving.</summary>
    public required int Version { get; init; }
    /// <summary>The generation of the promotion it serves for.</summary>
    public required long Generation { get; init; }
    /// <summary>SHA-256 of its artifact.</summary>
    public required string ArtifactSha256 { get; init; }
    /// <summary>When the replica swapped it in.</summary>
    public required DateTimeOffset Since { get; init; }
}
