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

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.Entity<AcceptedBatch>(b =>
        {
            b.ToTable("batches");
            b.HasKey(x => x.BatchId);
            b.Property(x => x.BatchId).HasColumnName("batch_id");
            b.Property(x => x.Dataset).HasColumnName("dataset");
            b.Property(x => x.Location).HasColumnName("location");
            b.Property(x => x.Sha256).HasColumnName("sha256");
            b.Property(x => x.RowCount).HasColumnName("row_count");
            b.Property(x => x.SchemaVersion).HasColumnName("schema_version");
            b.Property(x => x.Features).HasColumnName("features").HasColumnType("jsonb");
            b.Property(x => x.LabelColumn).HasColumnName("label_column");
            b.Property(x => x.Task).HasColumnName("task");
            b.Property(x => x.AcceptedAt).HasColumnName("accepted_at");
            b.Property(x => x.Excluded).HasColumnName("excluded");
            b.Property(x => x.ExcludedReason).HasColumnName("excluded_reason");
            b.Property(x => x.Seq).HasColumnName("seq").ValueGeneratedOnAdd();
        });
        modelBuilder.Entity<TrainingJob>(b =>
        {
            b.ToTable("jobs");
            b.HasKey(x => x.Id);
            b.Property(x => x.Id).HasColumnName("id");
            b.Property(x => x.Dataset).HasColumnName("dataset");
            b.Property(x => x.TriggerKey).HasColumnName("trigger_key");
            b.Property(x => x.Reason).HasColumnName("reason");
            b.Property(x => x.CorrelationId).HasColumnName("correlation_id");
            b.Property(x => x.FromVersion).HasColumnName("from_version");
            b.Property(x => x.FullRetrain).HasColumnName("full_retrain");
            b.Property(x => x.Status).HasColumnName("status");
            b.Property(x => x.Attempts).HasColumnName("attempts");
            b.Property(x => x.RunId).HasColumnName("run_id");
            b.Property(x => x.Error).HasColumnName("error");
            b.Property(x => x.CreatedAt).HasColumnName("created_at");
            b.Property(x => x.FinishedAt).HasColumnName("finished_at");
            b.Property(x => x.BatchId).HasColumnName("batch_id");
            b.Property(x => x.CutoffSeq).HasColumnName("cutoff_seq");
        });
        modelBuilder.Entity<TrainingRunRecord>(b =>
        {
            b.ToTable("runs");
            b.HasKey(x => x.Id);
            b.Property(x => x.Id).HasColumnName("id");
            b.Property(x => x.Dataset).HasColumnName("dataset");
            b.Property(x => x.ParentVersion).HasColumnName("parent_version");
            b.Property(x => x.BatchIds).HasColumnName("batch_ids");
            b.Property(x => x.SchemaVersion).HasColumnName("schema_version");
            b.Property(x => x.State).HasColumnName("state");
            b.Property(x => x.Artifact).HasColumnName("artifact");
            b.Property(x => x.Sha256).HasColumnName("sha256");
            b.Property(x => x.Metrics).HasColumnName("metrics").HasColumnType("jsonb");
            b.Property(x => x.LossCurve).HasColumnName("loss_curve").HasColumnType("jsonb");
            b.Property(x => x.Parameters).HasColumnName("parameters").HasColumnType("jsonb");
            b.Property(x => x.StartedAt).HasColumnName("started_at");
            b.Property(x => x.FinishedAt).HasColumnName("finished_at");
            b.Property(x => x.SamplesPerSecond).HasColumnName("samples_per_second");
            b.Property(x => x.ParentRunId).HasColumnName("parent_run_id");
            b.Property(x => x.BaselineVersion).HasColumnName("baseline_version");
            b.Property(x => x.BaselineMetrics).HasColumnName("baseline_metrics").HasColumnType("jsonb");
            b.Property(x => x.Device).HasColumnName("device");
            b.Property(x => x.HoldoutBatchId).HasColumnName("holdout_batch_id");
            b.Property(x => x.WindowDescription).HasColumnName("window_description");
        });
        modelBuilder.Entity<ServingVersion>(b =>
        {
            b.ToTable("serving");
            b.HasKey(x => x.Dataset);
            b.Property(x => x.Dataset).HasColumnName("dataset");
            b.Property(x => x.Version).HasColumnName("version");
            b.Property(x => x.Generation).HasColumnName("generation");
            b.Property(x => x.RunId).HasColumnName("run_id");
        });
        modelBuilder.Entity<TrainingPolicyRecord>(b =>
        {
            b.ToTable("policies");
            b.HasKey(x => x.Dataset);
            b.Property(x => x.Dataset).HasColumnName("dataset");
            b.Property(x => x.Trigger).HasColumnName("trigger");
            b.Property(x => x.EveryBatches).HasColumnName("every_batches");
            b.Property(x => x.EveryRows).HasColumnName("every_rows");
            b.Property(x => x.IntervalSeconds).HasColumnName("interval_seconds");
            b.Property(x => x.CatchUp).HasColumnName("catch_up");
            b.Property(x => x.WindowKind).HasColumnName("window_kind");
            b.Property(x => x.WindowBatches).HasColumnName("window_batches");
            b.Property(x => x.HalfLifeHours).HasColumnName("half_life_hours");
            b.Property(x => x.WarmStart).HasColumnName("warm_start");
            b.Property(x => x.UpdatedAt).HasColumnName("updated_at");
            b.Property(x => x.Epochs).HasColumnName("epochs");
            b.Property(x => x.BatchSize).HasColumnName("batch_size");
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
    public required string Features { get; set; }
    public required string LabelColumn { get; set; }
    public required string Task { get; set; }
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
    public required string Status { get; set; }
    public int Attempts { get; set; }
    public Guid? RunId { get; set; }
    public string? Error { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public Guid? BatchId { get; set; }
    public long? CutoffSeq { get; set; }
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
    public required string Metrics { get; set; }
    public required string LossCurve { get; set; }
    public required string Parameters { get; set; }
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset FinishedAt { get; set; }
    public double SamplesPerSecond { get; set; }
    public Guid? ParentRunId { get; set; }
    public int? BaselineVersion { get; set; }
    public string? BaselineMetrics { get; set; }
    public string Device { get; set; } = "cpu";
    public Guid? HoldoutBatchId { get; set; }
    public string WindowDescription { get; set; } = "all";
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
}
