using System.Text.Json;
using Ctm.Contracts;
using Ctm.Registry.Lineage;
using Ctm.Registry.Policies;
using Ctm.Registry.Rollbacks;
using Ctm.ServiceDefaults.Storage;
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
    public DbSet<ServingRequest> ServingRequests => Set<ServingRequest>();
    public DbSet<ReplicaRecord> Replicas => Set<ReplicaRecord>();
    public DbSet<ReplicaServingRecord> ReplicaServing => Set<ReplicaServingRecord>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // Stored as the text it had as a string, so the column is unchanged.
        configurationBuilder.Properties<TaskKind>().HaveConversion<EnumTextConverter<TaskKind>>();
        configurationBuilder.Properties<BatchState>().HaveConversion<EnumTextConverter<BatchState>>();
        configurationBuilder.Properties<VerdictDecision>().HaveConversion<EnumTextConverter<VerdictDecision>>();
        configurationBuilder.Properties<ServingState>().HaveConversion<EnumTextConverter<ServingState>>();
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.Entity<ModelVersion>(b =>
        {
            b.ToTable("versions");
            b.HasKey(x => new { x.Dataset, x.Version });
            b.Property(x => x.Metrics).HasJsonConversion();
            b.Property(x => x.SliceMetrics).HasJsonConversion();
            b.Property(x => x.Parameters).HasJsonConversion();
            b.Property(x => x.BaselineMetrics).HasJsonConversion();
            b.Property(x => x.InputMapping).HasJsonConversion();
        });
        modelBuilder.Entity<VersionBatch>(b =>
        {
            b.ToTable("version_batches");
            b.HasKey(x => new { x.Dataset, x.Version, x.BatchId });
        });
        modelBuilder.Entity<Promotion>(b =>
        {
            b.ToTable("promotions");
            b.HasKey(x => x.Id);
            b.Property(x => x.Details).HasJsonConversion();
        });
        modelBuilder.Entity<AuditEntry>(b =>
        {
            b.ToTable("audit_log");
            b.HasKey(x => x.Id);
            b.Property(x => x.Details).HasJsonConversion();
        });
        modelBuilder.Entity<DatasetRecord>(b =>
        {
            b.ToTable("datasets");
            b.HasKey(x => x.Name);
            b.Property(x => x.Features).HasJsonConversion();
        });
        modelBuilder.Entity<BatchRecord>(b =>
        {
            b.ToTable("batches");
            b.HasKey(x => x.BatchId);
        });
        modelBuilder.Entity<BatchEvent>(b =>
        {
            b.ToTable("batch_events");
            b.HasKey(x => x.Id);
            b.Property(x => x.Details).HasJsonConversion();
        });
        modelBuilder.Entity<PromotionDecision>(b =>
        {
            b.ToTable("promotion_decisions");
            b.HasKey(x => x.Id);
        });
        modelBuilder.Entity<RollbackRequestRecord>(b =>
        {
            b.ToTable("rollback_requests");
            b.HasKey(x => x.RequestId);
            b.Property(x => x.Outcome).HasJsonConversion();
        });
        modelBuilder.Entity<ServingRequest>(b =>
        {
            b.ToTable("serving_requests");
            b.HasKey(x => new { x.Dataset, x.Generation });
            b.Property(x => x.Details).HasJsonConversion();
        });
        modelBuilder.Entity<ReplicaRecord>(b =>
        {
            b.ToTable("replicas");
            b.HasKey(x => x.Replica);
        });
        modelBuilder.Entity<ReplicaServingRecord>(b =>
        {
            b.ToTable("replica_serving");
            b.HasKey(x => new { x.Dataset, x.Replica });
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
    public required Dictionary<string, double> Metrics { get; set; }
    public Dictionary<string, Dictionary<string, double>>? SliceMetrics { get; set; }
    public required Dictionary<string, string> Parameters { get; set; }
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
    public Guid[]? TaintedByBatches { get; set; }
    public Dictionary<string, double>? BaselineMetrics { get; set; }
    public Dictionary<string, string>? InputMapping { get; set; }
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
    public JsonElement? Details { get; set; }
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
    public JsonElement Details { get; set; }
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
    public List<ColumnSpec>? Features { get; set; }
    public string? LabelColumn { get; set; }
    public TaskKind? Task { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

public sealed class BatchRecord
{
    public Guid BatchId { get; set; }
    public required string Dataset { get; set; }
    public BatchState Status { get; set; }
    public DateTimeOffset StatusAt { get; set; }
    public long? RowCount { get; set; }
    public string? Sha256 { get; set; }
    public string? RowsLocation { get; set; }
    public string? StatisticsLocation { get; set; }
    public int? SchemaVersion { get; set; }
    public DateTimeOffset? IngestedAt { get; set; }
    public string? Upstream { get; set; }
}

public sealed class BatchEvent
{
    public long Id { get; set; }
    public Guid BatchId { get; set; }
    public required string Dataset { get; set; }
    public BatchState Status { get; set; }
    public DateTimeOffset At { get; set; }
    public string? Actor { get; set; }
    public JsonElement? Details { get; set; }
}

public sealed class PromotionDecision
{
    public long Id { get; set; }
    public required string Dataset { get; set; }
    public int Version { get; set; }
    public VerdictDecision Decision { get; set; }
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
    public required RollbackOutcome Outcome { get; set; }
    public int Deliveries { get; set; } = 1;
    public DateTimeOffset At { get; set; }
}

/// <summary>A promotion until a replica confirms it: <c>pending</c>, then <c>serving</c>, <c>refused</c> (every live replica refused) or <c>superseded</c>.</summary>
public sealed class ServingRequest
{
    public required string Dataset { get; set; }
    public long Generation { get; set; }
    public int Version { get; set; }
    public required string Reason { get; set; }
    public required string Actor { get; set; }
    public JsonElement? Details { get; set; }
    public Guid CorrelationId { get; set; }
    public DateTimeOffset RequestedAt { get; set; }
    public ServingState State { get; set; }
    public DateTimeOffset? ResolvedAt { get; set; }
    public string? Resolution { get; set; }
}

public sealed class ReplicaRecord
{
    public required string Replica { get; set; }
    public DateTimeOffset FirstSeen { get; set; }
    public DateTimeOffset LastSeen { get; set; }
    public int IntervalSeconds { get; set; }
    public DateTimeOffset? StoppedAt { get; set; }
}

public sealed class ReplicaServingRecord
{
    public required string Dataset { get; set; }
    public required string Replica { get; set; }
    public int? Version { get; set; }
    public long? Generation { get; set; }
    public string? Sha256 { get; set; }
    public DateTimeOffset? Since { get; set; }
    public int? RefusedVersion { get; set; }
    public long? RefusedGeneration { get; set; }
    public string? RefusalKind { get; set; }
    public string? RefusalReason { get; set; }
    public DateTimeOffset? RefusedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}
