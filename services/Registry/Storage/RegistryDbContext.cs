using Microsoft.EntityFrameworkCore;

namespace Ctm.Registry.Storage;

public sealed class RegistryDbContext(DbContextOptions<RegistryDbContext> options) : DbContext(options)
{
    public const string Schema = "registry";

    public DbSet<ModelVersion> Versions => Set<ModelVersion>();
    public DbSet<VersionBatch> VersionBatches => Set<VersionBatch>();
    public DbSet<Promotion> Promotions => Set<Promotion>();
    public DbSet<AuditEntry> Audit => Set<AuditEntry>();

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
