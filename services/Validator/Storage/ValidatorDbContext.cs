using Microsoft.EntityFrameworkCore;

namespace Ctm.Validator.Storage;

public sealed class ValidatorDbContext(DbContextOptions<ValidatorDbContext> options) : DbContext(options)
{
    public const string Schema = "validator";

    public DbSet<DatasetConfig> Datasets => Set<DatasetConfig>();
    public DbSet<SchemaVersion> Schemas => Set<SchemaVersion>();
    public DbSet<BatchDecision> Batches => Set<BatchDecision>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.Entity<DatasetConfig>(b =>
        {
            b.ToTable("datasets");
            b.HasKey(x => x.Dataset);
            b.Property(x => x.Dataset).HasColumnName("dataset");
            b.Property(x => x.LabelColumn).HasColumnName("label_column");
            b.Property(x => x.Task).HasColumnName("task");
            b.Property(x => x.UpdatedAt).HasColumnName("updated_at");
        });
        modelBuilder.Entity<SchemaVersion>(b =>
        {
            b.ToTable("schemas");
            b.HasKey(x => new { x.Dataset, x.Version });
            b.Property(x => x.Dataset).HasColumnName("dataset");
            b.Property(x => x.Version).HasColumnName("version");
            b.Property(x => x.Definition).HasColumnName("definition").HasColumnType("jsonb");
            b.Property(x => x.Reason).HasColumnName("reason");
            b.Property(x => x.CreatedAt).HasColumnName("created_at");
        });
        modelBuilder.Entity<BatchDecision>(b =>
        {
            b.ToTable("batches");
            b.HasKey(x => x.BatchId);
            b.Property(x => x.BatchId).HasColumnName("batch_id");
            b.Property(x => x.Dataset).HasColumnName("dataset");
            b.Property(x => x.Status).HasColumnName("status");
            b.Property(x => x.SchemaVersion).HasColumnName("schema_version");
            b.Property(x => x.RowCount).HasColumnName("row_count");
            b.Property(x => x.Sha256).HasColumnName("sha256");
            b.Property(x => x.Location).HasColumnName("location");
            b.Property(x => x.CorrelationId).HasColumnName("correlation_id");
            b.Property(x => x.Reasons).HasColumnName("reasons").HasColumnType("jsonb");
            b.Property(x => x.DecidedAt).HasColumnName("decided_at");
        });
    }
}

public sealed class DatasetConfig
{
    public required string Dataset { get; set; }
    public string? LabelColumn { get; set; }
    public string? Task { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

public sealed class SchemaVersion
{
    public required string Dataset { get; set; }
    public int Version { get; set; }
    public required string Definition { get; set; }
    public required string Reason { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

public sealed class BatchDecision
{
    public Guid BatchId { get; set; }
    public required string Dataset { get; set; }
    public required string Status { get; set; }
    public int? SchemaVersion { get; set; }
    public long RowCount { get; set; }
    public required string Sha256 { get; set; }
    public required string Location { get; set; }
    public Guid CorrelationId { get; set; }
    public required string Reasons { get; set; }
    public DateTimeOffset DecidedAt { get; set; }
}
