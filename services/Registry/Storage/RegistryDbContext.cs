using Microsoft.EntityFrameworkCore;

namespace Ctm.Registry.Storage;

public sealed class RegistryDbContext(DbContextOptions<RegistryDbContext> options) : DbContext(options)
{
    public const string Schema = "registry";

    public DbSet<ModelVersion> Versions => Set<ModelVersion>();
    public DbSet<VersionBatch> VersionBatches => Set<VersionBatch>();
    public DbSet<Promotion> Promotions => Set<Promotion>();
    public DbSet<AuditEntry> Audit => Set<AuditEntry>();
    public DbSet<DatasetRecord> Datasets => Set<DatasetRecord>();
    public DbSet<BatchRecord> Batches => Set<BatchRecord>();
    public DbSet<BatchEvent> BatchEvents => Set<BatchEvent>();
    public DbSet<PromotionDecision> Decisions => Set<PromotionDecision>();
    public DbSet<RollbackRequestRecord> RollbackRequests => Set<RollbackRequestRecord>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.Entity<ModelVersion>(b =>
        {
            b.ToTable("versions");
            b.HasKey(x => new { x.Dataset, x.Version });
            b.Property(x => x.Dataset).HasColumnName("dataset");
            b.Property(x => x.Version).HasColumnName("version");
            b.Property(x => x.RunId).HasColumnName("run_id");
            b.Property(x => x.ParentVersion).HasColumnName("parent_version");
            b.Property(x => x.SchemaVersion).HasColumnName("schema_version");
            b.Property(x => x.Task).HasColumnName("task");
            b.Property(x => x.Artifact).HasColumnName("artifact");
            b.Property(x => x.Sha256).HasColumnName("sha256");
            b.Property(x => x.Size).HasColumnName("size");
            b.Property(x => x.Metrics).HasColumnName("metrics").HasColumnType("jsonb");
            b.Property(x => x.SliceMetrics).HasColumnName("slice_metrics").HasColumnType("jsonb");
            b.Property(x => x.Parameters).HasColumnName("parameters").HasColumnType("jsonb");
            b.Property(x => x.Engine).HasColumnName("engine");
            b.Property(x => x.Device).HasColumnName("device");
            b.Property(x => x.Seed).HasColumnName("seed");
            b.Property(x => x.CodeVersion).HasColumnName("code_version");
            b.Property(x => x.StartedAt).HasColumnName("started_at");
            b.Property(x => x.FinishedAt).HasColumnName("finished_at");
            b.Property(x => x.SamplesPerSecond).HasColumnName("samples_per_second");
            b.Property(x => x.Origin).HasColumnName("origin");
            b.Property(x => x.Tainted).HasColumnName("tainted");
            b.Property(x => x.CreatedAt).HasColumnName("created_at");
            b.Property(x => x.TaintedAt).HasColumnName("tainted_at");
            b.Property(x => x.TaintReason).HasColumnName("taint_reason");
            b.Property(x => x.TaintedByBatch).HasColumnName("tainted_by_batch");
            b.Property(x => x.BaselineMetrics).HasColumnName("baseline_metrics").HasColumnType("jsonb");
            b.Property(x => x.InputMapping).HasColumnName("input_mapping").HasColumnType("jsonb");
            b.Property(x => x.Description).HasColumnName("description");
            b.Property(x => x.UploadedBy).HasColumnName("uploaded_by");
            b.Property(x => x.ExternalSource).HasColumnName("external_source");
            b.Property(x => x.FileName).HasColumnName("file_name");
        });
        modelBuilder.Entity<VersionBatch>(b =>
        {
            b.ToTable("version_batches");
            b.HasKey(x => new { x.Dataset, x.Version, x.BatchId });
            b.Property(x => x.Dataset).HasColumnName("dataset");
            b.Property(x => x.Version).HasColumnName("version");
            b.Property(x => x.BatchId).HasColumnName("batch_id");
        });
        modelBuilder.Entity<Promotion>(b =>
        {
            b.ToTable("promotions");
            b.HasKey(x => x.Id);
            b.Property(x => x.Id).HasColumnName("id");
            b.Property(x => x.Dataset).HasColumnName("dataset");
            b.Property(x => x.Version).HasColumnName("version");
            b.Property(x => x.Generation).HasColumnName("generation");
            b.Property(x => x.Reason).HasColumnName("reason");
            b.Property(x => x.Actor).HasColumnName("actor");
            b.Property(x => x.Details).HasColumnName("details").HasColumnType("jsonb");
            b.Property(x => x.PromotedAt).HasColumnName("promoted_at");
            b.Property(x => x.EndedAt).HasColumnName("ended_at");
        });
        modelBuilder.Entity<AuditEntry>(b =>
        {
            b.ToTable("audit_log");
            b.HasKey(x => x.Id);
            b.Property(x => x.Id).HasColumnName("id");
            b.Property(x => x.At).HasColumnName("at");
            b.Property(x => x.Actor).HasColumnName("actor");
            b.Property(x => x.Action).HasColumnName("action");
            b.Property(x => x.Dataset).HasColumnName("dataset");
            b.Property(x => x.Details).HasColumnName("details").HasColumnType("jsonb");
        });
        modelBuilder.Entity<DatasetRecord>(b =>
        {
            b.ToTable("datasets");
            b.HasKey(x => x.Name);
            b.Property(x => x.Name).HasColumnName("name");
            b.Property(x => x.PolicyMode).HasColumnName("policy_mode");
            b.Property(x => x.Tolerance).HasColumnName("tolerance");
            b.Property(x => x.Metric).HasColumnName("metric");
            b.Property(x => x.PolicyUpdatedBy).HasColumnName("policy_updated_by");
            b.Property(x => x.PolicyUpdatedAt).HasColumnName("policy_updated_at");
            b.Property(x => x.SchemaVersion).HasColumnName("schema_version");
            b.Property(x => x.Features).HasColumnName("features").HasColumnType("jsonb");
            b.Property(x => x.LabelColumn).HasColumnName("label_column");
            b.Property(x => x.Task).HasColumnName("task");
            b.Property(x => x.CreatedAt).HasColumnName("created_at");
        });
        modelBuilder.Entity<BatchRecord>(b =>
        {
            b.ToTable("batches");
            b.HasKey(x => x.BatchId);
            b.Property(x => x.BatchId).HasColumnName("batch_id");
            b.Property(x => x.Dataset).HasColumnName("dataset");
            b.Property(x => x.Status).HasColumnName("status");
            b.Property(x => x.StatusAt).HasColumnName("status_at");
            b.Property(x => x.RowCount).HasColumnName("row_count");
            b.Property(x => x.Sha256).HasColumnName("sha256");
            b.Property(x => x.RowsLocation).HasColumnName("rows_location");
            b.Property(x => x.StatisticsLocation).HasColumnName("statistics_location");
            b.Property(x => x.SchemaVersion).HasColumnName("schema_version");
        });
        modelBuilder.Entity<BatchEvent>(b =>
        {
            b.ToTable("batch_events");
            b.HasKey(x => x.Id);
            b.Property(x => x.Id).HasColumnName("id");
            b.Property(x => x.BatchId).HasColumnName("batch_id");
            b.Property(x => x.Dataset).HasColumnName("dataset");
            b.Property(x => x.Status).HasColumnName("status");
            b.Property(x => x.At).HasColumnName("at");
            b.Property(x => x.Actor).HasColumnName("actor");
            b.Property(x => x.Details).HasColumnName("details").HasColumnType("jsonb");
        });
        modelBuilder.Entity<PromotionDecision>(b =>
        {
            b.ToTable("promotion_decisions");
            b.HasKey(x => x.Id);
            b.Property(x => x.Id).HasColumnName("id");
            b.Property(x => x.Dataset).HasColumnName("dataset");
            b.Property(x => x.Version).HasColumnName("version");
            b.Property(x => x.Decision).HasColumnName("decision");
            b.Property(x => x.Basis).HasColumnName("basis");
            b.Property(x => x.Metric).HasColumnName("metric");
            b.Property(x => x.CandidateValue).HasColumnName("candidate_value");
            b.Property(x => x.BaselineValue).HasColumnName("baseline_value");
            b.Property(x => x.BaselineVersion).HasColumnName("baseline_version");
            b.Property(x => x.Tolerance).HasColumnName("tolerance");
            b.Property(x => x.Mode).HasColumnName("mode");
            b.Property(x => x.Actor).HasColumnName("actor");
            b.Property(x => x.Reason).HasColumnName("reason");
            b.Property(x => x.At).HasColumnName("at");
        });
        modelBuilder.Entity<RollbackRequestRecord>(b =>
        {
            b.ToTable("rollback_requests");
            b.HasKey(x => x.RequestId);
            b.Property(x => x.RequestId).HasColumnName("request_id");
            b.Property(x => x.Dataset).HasColumnName("dataset");
            b.Property(x => x.Outcome).HasColumnName("outcome").HasColumnType("jsonb");
            b.Property(x => x.Deliveries).HasColumnName("deliveries");
            b.Property(x => x.At).HasColumnName("at");
        });
    }
}

public sealed class ModelVersion
{
    public required string Dataset { get; set; }
    public int Version { get; set; }
    public Guid? RunId { get; set; }
    public int? ParentVersion { get; set; }
    public int? SchemaVersion { get; set; }
    public required string Task { get; set; }
    public required byte[] Artifact { get; set; }
    public required string Sha256 { get; set; }
    public long Size { get; set; }
    public required string Metrics { get; set; }
    public string? SliceMetrics { get; set; }
    public required string Parameters { get; set; }
    public required string Engine { get; set; }
    public required string Device { get; set; }
    public int? Seed { get; set; }
    public string? CodeVersion { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public double? SamplesPerSecond { get; set; }
    public required string Origin { get; set; }
    public bool Tainted { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? TaintedAt { get; set; }
    public string? TaintReason { get; set; }
    public Guid? TaintedByBatch { get; set; }
    public string? BaselineMetrics { get; set; }
    public string? InputMapping { get; set; }
    public string? Description { get; set; }
    public string? UploadedBy { get; set; }
    public string? ExternalSource { get; set; }
    public string? FileName { get; set; }
}

public sealed class VersionBatch
{
    public required string Dataset { get; set; }
    public int Version { get; set; }
    public Guid BatchId { get; set; }
}

public sealed class Promotion
{
    public long Id { get; set; }
    public required string Dataset { get; set; }
    public int Version { get; set; }
    public long Generation { get; set; }
    public required string Reason { get; set; }
    public required string Actor { get; set; }
    public string? Details { get; set; }
    public DateTimeOffset PromotedAt { get; set; }
    public DateTimeOffset? EndedAt { get; set; }
}

public sealed class AuditEntry
{
    public long Id { get; set; }
    public DateTimeOffset At { get; set; }
    public required string Actor { get; set; }
    public required string Action { get; set; }
    public required string Dataset { get; set; }
    public required string Details { get; set; }
}

public sealed class DatasetRecord
{
    public required string Name { get; set; }
    public required string PolicyMode { get; set; }
    public double Tolerance { get; set; }
    public string? Metric { get; set; }
    public string? PolicyUpdatedBy { get; set; }
    public DateTimeOffset? PolicyUpdatedAt { get; set; }
    public int? SchemaVersion { get; set; }
    public string? Features { get; set; }
    public string? LabelColumn { get; set; }
    public string? Task { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

public sealed class BatchRecord
{
    public Guid BatchId { get; set; }
    public required string Dataset { get; set; }
    public required string Status { get; set; }
    public DateTimeOffset StatusAt { get; set; }
    public long? RowCount { get; set; }
    public string? Sha256 { get; set; }
    public string? RowsLocation { get; set; }
    public string? StatisticsLocation { get; set; }
    public int? SchemaVersion { get; set; }
}

public sealed class BatchEvent
{
    public long Id { get; set; }
    public Guid BatchId { get; set; }
    public required string Dataset { get; set; }
    public required string Status { get; set; }
    public DateTimeOffset At { get; set; }
    public string? Actor { get; set; }
    public string? Details { get; set; }
}

public sealed class PromotionDecision
{
    public long Id { get; set; }
    public required string Dataset { get; set; }
    public int Version { get; set; }
    public required string Decision { get; set; }
    public required string Basis { get; set; }
    public string? Metric { get; set; }
    public double? CandidateValue { get; set; }
    public double? BaselineValue { get; set; }
    public int? BaselineVersion { get; set; }
    public double? Tolerance { get; set; }
    public required string Mode { get; set; }
    public required string Actor { get; set; }
    public string? Reason { get; set; }
    public DateTimeOffset At { get; set; }
}

public sealed class RollbackRequestRecord
{
    public Guid RequestId { get; set; }
    public required string Dataset { get; set; }
    public required string Outcome { get; set; }
    public int Deliveries { get; set; } = 1;
    public DateTimeOffset At { get; set; }
}
