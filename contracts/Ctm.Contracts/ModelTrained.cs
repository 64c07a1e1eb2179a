namespace Ctm.Contracts;

/// <summary>
/// The Trainer finished a run. The artifact (an ONNX model) stays with the Trainer at <see cref="ArtifactLocation"/>;
/// the Registry fetches it, checks its hash and takes ownership.
/// </summary>
public sealed record ModelTrained
{
    /// <summary>The training run's id; the Registry registers one version per run.</summary>
    public required Guid RunId { get; init; }
    /// <summary>The dataset.</summary>
    public required string Dataset { get; init; }
    /// <summary>Correlation id (of the batch that triggered the run, or of the retrain request).</summary>
    public required Guid CorrelationId { get; init; }
    /// <summary>Exactly the batches the model was trained on.</summary>
    public required IReadOnlyList<Guid> BatchIds { get; init; }
    /// <summary>The Registry version the run warm-started from, or null for a cold start.</summary>
    public int? ParentVersion { get; init; }
    /// <summary>The schema version of the training data.</summary>
    public required int SchemaVersion { get; init; }
    /// <summary><c>binary</c>, <c>multiclass</c> or <c>regression</c> on the wire.</summary>
    public required TaskKind Task { get; init; }
    /// <summary>Where the Trainer serves the ONNX artifact.</summary>
    public required string ArtifactLocation { get; init; }
    /// <summary>SHA-256 of the artifact bytes.</summary>
    public required string ArtifactSha256 { get; init; }
    /// <summary>Artifact size in bytes.</summary>
    public required long ArtifactSize { get; init; }
    /// <summary>Evaluation metrics by name (e.g. <c>accuracy</c>, <c>log_loss</c>, <c>rmse</c>), on held-out data where there was any.</summary>
    public required IReadOnlyDictionary<string, double> Metrics { get; init; }
    /// <summary>
    /// The serving version's metrics on the same held-out rows as <see cref="Metrics"/> (the newest rows, never
    /// trained on by this run), or null when nothing served or it could not be evaluated on them.
    /// </summary>
    public IReadOnlyDictionary<string, double>? BaselineMetrics { get; init; }
    /// <summary>The version <see cref="BaselineMetrics"/> belong to, or null.</summary>
    public int? BaselineVersion { get; init; }
    /// <summary>Metrics per slice, keyed <c>feature=value</c>, then metric name.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>>? SliceMetrics { get; init; }
    /// <summary>Training parameters as text (architecture, epochs, learning rate...).</summary>
    public required IReadOnlyDictionary<string, string> Parameters { get; init; }
    /// <summary>The training engine's name.</summary>
    public required string Engine { get; init; }
    /// <summary>The device trained on, e.g. <c>cpu</c>.</summary>
    public required string Device { get; init; }
    /// <summary>Random seed.</summary>
    public required int Seed { get; init; }
    /// <summary>Version of the training code.</summary>
    public required string CodeVersion { get; init; }
    /// <summary>Start of the run.</summary>
    public required DateTimeOffset StartedAt { get; init; }
    /// <summary>End of the run.</summary>
    public required DateTimeOffset FinishedAt { get; init; }
    /// <summary>Training throughput.</summary>
    public required double SamplesPerSecond { get; init; }
}
