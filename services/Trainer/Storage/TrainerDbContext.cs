using System.Text.Json;
using Ctm.Ml;
using Ctm.Contracts;
using Ctm.ServiceDefaults.Storage;
using Ctm.Trainer.Quality;
using Microsoft.EntityFrameworkCore;

namespace Ctm.Trainer.Storage;

public sealed class TrainerDbContext(DbContextOptions<TrainerDbContext> options) : DbContext(options)
{
    public const string Schema = "trainer";

    public DbSet<AcceptedBatch> Batches => Set<AcceptedBatch>();
    public DbSet<TrainingJob> Jobs => Set<TrainingJob>();
    public DbSet<TrainingRunRecord> Runs => Set<TrainingRunRecord>();
    public DbSet<ServingVersion> Serving => Set<ServingVersion>();
    public DbSet<TrainingPolicyRecord> Policies => Set<TrainingPolicyRecord>();
    public DbSet<QualityRecord> Quality => Set<QualityRecord>();
    public DbSet<QualityAlertRecord> QualityAlerts => Set<QualityAlertRecord>();
    public DbSet<QualityPendingRecord> QualityPending => Set<QualityPendingRecord>();
    public DbSet<ServedPredictionRecord> ServedPredictions => Set<ServedPredictionRecord>();
    public DbSet<FeedbackLabelRecord> FeedbackLabels => Set<FeedbackLabelRecord>();
    public DbSet<FeedbackCountersRecord> FeedbackCounters => Set<FeedbackCountersRecord>();
    public DbSet<QualityDatasetRecord> QualityDatasets => Set<QualityDatasetRecord>();
    public DbSet<QualityEdgesRecord> QualityEdges => Set<QualityEdgesRecord>();
    public DbSet<FeedbackBatchRecord> FeedbackBatches => Set<FeedbackBatchRecord>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // Enums are stored as the text they had as strings, so the columns and the migrations' predicates are unchanged.
        configurationBuilder.Properties<JobStatus>().HaveConversion<EnumTextConverter<JobStatus>>();
        configurationBuilder.Properties<TaskKind>().HaveConversion<EnumTextConverter<TaskKind>>();
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.Entity<AcceptedBatch>(b =>
        {
            b.ToTable("batches");
            b.HasKey(x => x.BatchId);
            b.Property(x => x.Features).HasJsonConversion();
            b.Property(x => x.Seq).ValueGeneratedOnAdd();
        });
        modelBuilder.Entity<TrainingJob>(b =>
        {
            b.ToTable("jobs");
            b.HasKey(x => x.Id);
        });
        modelBuilder.Entity<TrainingRunRecord>(b =>
        {
            b.ToTable("runs");
            b.HasKey(x => x.Id);
            b.Property(x => x.Metrics).HasJsonConversion();
            b.Property(x => x.LossCurve).HasJsonConversion();
            b.Property(x => x.Parameters).HasJsonConversion();
            b.Property(x => x.BaselineMetrics).HasJsonConversion();
        });
        modelBuilder.Entity<ServingVersion>(b =>
        {
            b.ToTable("serving");
            b.HasKey(x => x.Dataset);
        });
        modelBuilder.Entity<TrainingPolicyRecord>(b =>
        {
            b.ToTable("policies");
            b.HasKey(x => x.Dataset);
        });
        modelBuilder.Entity<QualityRecord>(b =>
        {
            b.ToTable("quality");
            b.HasKey(x => new { x.BatchId, x.Version });
            b.Property(x => x.Overall).HasJsonConversion();
            b.Property(x => x.Slices).HasJsonConversion();
            b.Property(x => x.Histogram).HasJsonConversion();
        });
        modelBuilder.Entity<QualityPendingRecord>(b =>
        {
            b.ToTable("quality_pending");
            b.HasKey(x => x.BatchId);
        });
        modelBuilder.Entity<QualityAlertRecord>(b =>
        {
            b.ToTable("quality_alerts");
            b.HasKey(x => x.Id);
            b.Property(x => x.Numbers).HasJsonConversion();
        });
        modelBuilder.Entity<ServedPredictionRecord>(b =>
        {
            b.ToTable("served_predictions");
            b.HasKey(x => new { x.Dataset, x.Key, x.Version, x.Role });
            b.Property(x => x.Probabilities).HasJsonConversion();
        });
        modelBuilder.Entity<FeedbackLabelRecord>(b =>
        {
            b.ToTable("feedback_labels");
            b.HasKey(x => new { x.Dataset, x.Key });
        });
        modelBuilder.Entity<FeedbackCountersRecord>(b =>
        {
            b.ToTable("feedback_counters");
            b.HasKey(x => x.Dataset);
        });
        modelBuilder.Entity<QualityDatasetRecord>(b =>
        {
            b.ToTable("quality_datasets");
            b.HasKey(x => x.Dataset);
            b.Property(x => x.Slices).HasJsonConversion();
        });
        modelBuilder.Entity<QualityEdgesRecord>(b =>
        {
            b.ToTable("quality_edges");
            b.HasKey(x => x.Dataset);
            b.Property(x => x.Edges).HasJsonConversion();
        });
        modelBuilder.Entity<FeedbackBatchRecord>(b =>
        {
            b.ToTable("feedback_batches");
            b.HasKey(x => x.BatchId);
        });
    }
}

public sealed class AcceptedBatch
{
    public Guid BatchId { get; set; }
    public required string Dataset { get; set; }
    public required string Location { get; set; }
    public required string Sha256 { get; set; }
    public long RowCount { get; set; }
    public int SchemaVersion { get; set; }
    public required List<ColumnSpec> Features { get; set; }
    public required string LabelColumn { get; set; }
    public TaskKind Task { get; set; }
    public DateTimeOffset AcceptedAt { get; set; }
    public bool Excluded { get; set; }
    public string? ExcludedReason { get; set; }
    public long Seq { get; set; }
}

public sealed class TrainingJob
{
    public Guid Id { get; set; }
    public required string Dataset { get; set; }
    public required string TriggerKey { get; set; }
    public required string Reason { get; set; }
    public Guid CorrelationId { get; set; }
    public int? FromVersion { get; set; }
    public bool FullRetrain { get; set; }
    public JobStatus Status { get; set; }
    public int Attempts { get; set; }
    public Guid? RunId { get; set; }
    public string? Error { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public Guid? BatchId { get; set; }
    public long? CutoffSeq { get; set; }

    /// <summary>The W3C traceparent of the message that asked for this job, so the run continues its trace.</summary>
    public string? TraceParent { get; set; }
}

public sealed class TrainingRunRecord
{
    public Guid Id { get; set; }
    public required string Dataset { get; set; }
    public int? ParentVersion { get; set; }
    public required Guid[] BatchIds { get; set; }
    public int SchemaVersion { get; set; }
    public required byte[] State { get; set; }
    public required byte[] Artifact { get; set; }
    public required string Sha256 { get; set; }
    public required ModelMetrics Metrics { get; set; }
    public required double[] LossCurve { get; set; }
    public required Dictionary<string, string> Parameters { get; set; }
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset FinishedAt { get; set; }
    public double SamplesPerSecond { get; set; }
    public Guid? ParentRunId { get; set; }
    public int? BaselineVersion { get; set; }
    public Dictionary<string, double>? BaselineMetrics { get; set; }
    public string Device { get; set; } = "cpu";
    public string Engine { get; set; } = "ctm-managed-simd";
    public Guid? HoldoutBatchId { get; set; }
    public string WindowDescription { get; set; } = "all";
    public long TrainedSamples { get; set; }
    public string Mode { get; set; } = "full";
    public string? ModeReason { get; set; }
}

public sealed class ServingVersion
{
    public required string Dataset { get; set; }
    public int Version { get; set; }
    public long Generation { get; set; }
    public Guid? RunId { get; set; }
}

public sealed class TrainingPolicyRecord
{
    public required string Dataset { get; set; }
    public required string Trigger { get; set; }
    public int EveryBatches { get; set; }
    public long EveryRows { get; set; }
    public double IntervalSeconds { get; set; }
    public bool CatchUp { get; set; }
    public required string WindowKind { get; set; }
    public int WindowBatches { get; set; }
    public double HalfLifeHours { get; set; }
    public bool WarmStart { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public int? Epochs { get; set; }
    public int? BatchSize { get; set; }
    public string? Engine { get; set; }
    public string? Device { get; set; }
    public bool RetrainOnQualityAlert { get; set; }
}

/// <summary>One labeled batch scored by the version that served when it arrived (test-then-train).</summary>
public sealed class QualityRecord
{
    public Guid BatchId { get; set; }
    public int Version { get; set; }
    public required string Dataset { get; set; }
    public Guid? RunId { get; set; }
    public long Seq { get; set; }
    public DateTimeOffset AcceptedAt { get; set; }
    public DateTimeOffset ScoredAt { get; set; }
    public int Rows { get; set; }
    public required string Metric { get; set; }
    public double? Value { get; set; }
    public required MetricValues Overall { get; set; }
    public required List<SliceMetrics> Slices { get; set; }
    public required int[] Histogram { get; set; }
    public double? Psi { get; set; }

    /// <summary><see cref="Quality.QualitySources.TestThenTrain"/> or <see cref="Quality.QualitySources.Served"/>.</summary>
    public string Source { get; set; } = Quality.QualitySources.TestThenTrain;

    /// <summary>For served points: <c>serving</c>, <c>canary</c> or <c>shadow</c>; null for test-then-train.</summary>
    public string? Role { get; set; }
}

/// <summary>A batch waiting to be scored by the version that served when it arrived.</summary>
public sealed class QualityPendingRecord
{
    public Guid BatchId { get; set; }
    public required string Dataset { get; set; }
    public int Version { get; set; }
    public Guid RunId { get; set; }
    public Guid CorrelationId { get; set; }
    public int Attempts { get; set; }
    public string? Error { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

public sealed class QualityAlertRecord
{
    public long Id { get; set; }
    public required string Dataset { get; set; }
    public Guid BatchId { get; set; }
    public int Version { get; set; }
    public required string Kind { get; set; }
    public string? Slice { get; set; }
    public required string Sentence { get; set; }
    public JsonElement Numbers { get; set; }
    public DateTimeOffset RaisedAt { get; set; }
}

/// <summary>A keyed prediction a Predictor served, waiting for (or joined to) its label.</summary>
public sealed class ServedPredictionRecord
{
    public required string Dataset { get; set; }
    public required string Key { get; set; }
    public int Version { get; set; }
    public required string Role { get; set; }
    public string? Label { get; set; }
    public Dictionary<string, double>? Probabilities { get; set; }
    public double? Value { get; set; }
    public DateTimeOffset ServedAt { get; set; }
    public string? Truth { get; set; }
    public DateTimeOffset? JoinedAt { get; set; }
    public bool Scored { get; set; }
}

/// <summary>A label by example key (the first one for the key), joined or waiting for its prediction.</summary>
public sealed class FeedbackLabelRecord
{
    public required string Dataset { get; set; }
    public required string Key { get; set; }
    public required string Truth { get; set; }
    public required string Source { get; set; }
    public DateTimeOffset LabeledAt { get; set; }
    public DateTimeOffset ArrivedAt { get; set; }
    public DateTimeOffset? JoinedAt { get; set; }
}

public sealed class FeedbackCountersRecord
{
    public required string Dataset { get; set; }
    public long PredictionsReceived { get; set; }
    public long PredictionsDuplicate { get; set; }
    public long PredictionsDropped { get; set; }
    public long PredictionsJoined { get; set; }
    public long PredictionsExpired { get; set; }
    public long PredictionsEvicted { get; set; }
    public long LabelsReceived { get; set; }
    public long LabelsDuplicate { get; set; }
    public long LabelsJoined { get; set; }
    public long LabelsExpired { get; set; }
}

/// <summary>A dataset's quality settings: the key column of its labeled batches, and the slices an operator named (JSON list of <see cref="Quality.NamedSlice"/>).</summary>
public sealed class QualityDatasetRecord
{
    public required string Dataset { get; set; }
    public string? KeyColumn { get; set; }
    public List<NamedSlice>? Slices { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>A dataset's numeric cut points for quality slices, fixed by the first batch scored (features seen later are added).</summary>
public sealed class QualityEdgesRecord
{
    public required string Dataset { get; set; }
    public required Dictionary<string, double[]> Edges { get; set; }
}

public sealed class FeedbackBatchRecord
{
    public Guid BatchId { get; set; }
    public required string Dataset { get; set; }
    public int Labels { get; set; }
    public DateTimeOffset ReadAt { get; set; }
}
