using System.Text.Json;
using Ctm.Contracts;
using Ctm.Data.Schema;
using Ctm.Data.Drift;
using Ctm.Data.Statistics;
using Ctm.Data.Validation;
using Ctm.Validator.Validation;
using Ctm.ServiceDefaults.Storage;
using Microsoft.EntityFrameworkCore;

namespace Ctm.Validator.Storage;

public sealed class ValidatorDbContext(DbContextOptions<ValidatorDbContext> options) : DbContext(options)
{
    public const string Schema = "validator";

    public DbSet<DatasetConfig> Datasets => Set<DatasetConfig>();
    public DbSet<SchemaVersion> Schemas => Set<SchemaVersion>();
    public DbSet<BatchDecision> Batches => Set<BatchDecision>();
    public DbSet<StoredStatistics> Statistics => Set<StoredStatistics>();
    public DbSet<SchemaProposal> Proposals => Set<SchemaProposal>();
    public DbSet<AuditEntry> Audit => Set<AuditEntry>();
    public DbSet<FeatureThreshold> Thresholds => Set<FeatureThreshold>();
    public DbSet<ModelRun> Runs => Set<ModelRun>();
    public DbSet<ModelVersion> Versions => Set<ModelVersion>();
    public DbSet<SkewReport> SkewReports => Set<SkewReport>();
    public DbSet<StoredMeasures> Measures => Set<StoredMeasures>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // Stored as the text it had as a string, so the column is unchanged.
        configurationBuilder.Properties<TaskKind>().HaveConversion<EnumTextConverter<TaskKind>>();
        configurationBuilder.Properties<BatchStatus>().HaveConversion<EnumTextConverter<BatchStatus>>();
        configurationBuilder.Properties<ProposalStatus>().HaveConversion<EnumTextConverter<ProposalStatus>>();
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.Entity<DatasetConfig>(b =>
        {
            b.ToTable("datasets");
            b.HasKey(x => x.Dataset);
        });
        modelBuilder.Entity<SchemaVersion>(b =>
        {
            b.ToTable("schemas");
            b.HasKey(x => new { x.Dataset, x.Version });
            b.Property(x => x.Definition).HasJsonConversion();
            b.Property(x => x.DataSchema).HasJsonConversion(DataJson.Options);
        });
        modelBuilder.Entity<BatchDecision>(b =>
        {
            b.ToTable("batches");
            b.HasKey(x => x.BatchId);
            b.Property(x => x.Reasons).HasJsonConversion();
            b.Property(x => x.Details).HasJsonConversion(DataJson.Options);
        });
        modelBuilder.Entity<StoredStatistics>(b =>
        {
            b.ToTable("batch_statistics");
            b.HasKey(x => x.BatchId);
            b.Property(x => x.Statistics).HasColumnType("jsonb");
        });
        modelBuilder.Entity<SchemaProposal>(b =>
        {
            b.ToTable("schema_proposals");
            b.HasKey(x => x.Id);
            b.Property(x => x.Changes).HasJsonConversion(DataJson.Options);
        });
        modelBuilder.Entity<AuditEntry>(b =>
        {
            b.ToTable("audit_log");
            b.HasKey(x => x.Id);
            b.Property(x => x.Id).UseIdentityByDefaultColumn();
            b.Property(x => x.Details).HasJsonConversion();
        });
        modelBuilder.Entity<FeatureThreshold>(b =>
        {
            b.ToTable("thresholds");
            b.HasKey(x => new { x.Dataset, x.Feature, x.Kind });
            b.Property(x => x.Settings).HasJsonConversion(DataJson.Options);
        });
        modelBuilder.Entity<StoredMeasures>(b =>
        {
            b.ToTable("batch_measures");
            b.HasKey(x => x.BatchId);
            b.Property(x => x.Measures).HasJsonConversion(DataJson.Options);
        });
        modelBuilder.Entity<ModelRun>(b =>
        {
            b.ToTable("model_runs");
            b.HasKey(x => x.RunId);
        });
        modelBuilder.Entity<ModelVersion>(b =>
        {
            b.ToTable("model_versions");
            b.HasKey(x => new { x.Dataset, x.Version });
        });
        modelBuilder.Entity<SkewReport>(b =>
        {
            b.ToTable("skew_reports");
            b.HasKey(x => x.Id);
            b.Property(x => x.Statistics).HasColumnType("jsonb");
            b.Property(x => x.Anomalies).HasJsonConversion(DataJson.Options);
        });
    }
}

public sealed class DatasetConfig
{
    public required string Dataset { get; set; }
    public string? LabelColumn { get; set; }
    public TaskKind? Task { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

public sealed class SchemaVersion
{
    public required string Dataset { get; set; }
    public int Version { get; set; }
    public required DatasetSchema Definition { get; set; }
    public required string Reason { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DataSchema? DataSchema { get; set; }
    public string? CreatedBy { get; set; }
}

public sealed class BatchDecision
{
    public Guid BatchId { get; set; }
    public required string Dataset { get; set; }
    public BatchStatus Status { get; set; }
    public int? SchemaVersion { get; set; }
    public long RowCount { get; set; }
    public required string Sha256 { get; set; }
    public required string Location { get; set; }
    public Guid CorrelationId { get; set; }
    public required List<Contracts.Anomaly> Reasons { get; set; }
    public DateTimeOffset DecidedAt { get; set; }
    public ValidationDecision? Details { get; set; }
    public Guid[]? WindowBatchIds { get; set; }
    public DateTimeOffset? UpdatedAt { get; set; }
}

/// <summary>The batch statistics, as <c>BatchStatistics.ToJson()</c> wrote them.</summary>
public sealed class StoredStatistics
{
    public Guid BatchId { get; set; }
    public required string Dataset { get; set; }
    public required string Statistics { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>A batch's distances from its reference (stored as <c>BatchMeasures.ToJson()</c> writes them): the history later batches are judged by.</summary>
public sealed class StoredMeasures
{
    public Guid BatchId { get; set; }
    public required string Dataset { get; set; }
    public required BatchMeasures Measures { get; set; }
    public DateTimeOffset DecidedAt { get; set; }
}

public sealed class SchemaProposal
{
    public Guid Id { get; set; }
    public required string Dataset { get; set; }
    public Guid BatchId { get; set; }
    public int BaseVersion { get; set; }
    public required List<SchemaChange> Changes { get; set; }
    public ProposalStatus Status { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public string? DecidedBy { get; set; }
    public string? DecisionReason { get; set; }
    public DateTimeOffset? DecidedAt { get; set; }
    public int? ResultingVersion { get; set; }
}

public sealed class AuditEntry
{
    public long Id { get; set; }
    public required string Dataset { get; set; }
    public Guid? BatchId { get; set; }
    public required string Action { get; set; }
    public required string Operator { get; set; }
    public required string Reason { get; set; }
    public JsonElement? Details { get; set; }
    public DateTimeOffset At { get; set; }
}

public sealed class FeatureThreshold
{
    public required string Dataset { get; set; }
    public required string Feature { get; set; }
    public required string Kind { get; set; }
    public double Significance { get; set; }
    public double JensenShannonFloor { get; set; }
    public double LInfinityFloor { get; set; }
    public bool Enabled { get; set; }
    /// <summary>The full <c>DriftThresholds</c> as JSON (calibrated settings included), or null for rows from before them.</summary>
    public DriftThresholds? Settings { get; set; }
    public required string UpdatedBy { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

public sealed class ModelRun
{
    public Guid RunId { get; set; }
    public required string Dataset { get; set; }
    public required Guid[] BatchIds { get; set; }
    public int SchemaVersion { get; set; }
    public DateTimeOffset FinishedAt { get; set; }
}

public sealed class ModelVersion
{
    public required string Dataset { get; set; }
    public int Version { get; set; }
    public Guid? RunId { get; set; }
    public long Generation { get; set; }
    public DateTimeOffset PromotedAt { get; set; }
}

public sealed class SkewReport
{
    public Guid Id { get; set; }
    public required string Dataset { get; set; }
    public int ModelVersion { get; set; }
    public required string Replica { get; set; }
    public DateTimeOffset WindowStart { get; set; }
    public DateTimeOffset WindowEnd { get; set; }
    public long SampledRows { get; set; }
    public long ServedRows { get; set; }
    public required string Statistics { get; set; }
    public required Guid[] BaselineBatchIds { get; set; }
    public required string Status { get; set; }
    public required List<Ctm.Data.Validation.Anomaly> Anomalies { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
