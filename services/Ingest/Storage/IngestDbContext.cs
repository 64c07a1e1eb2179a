using Microsoft.EntityFrameworkCore;

namespace Ctm.Ingest.Storage;

public sealed class IngestDbContext(DbContextOptions<IngestDbContext> options) : DbContext(options)
{
    public const string Schema = "ingest";

    public DbSet<StoredBatch> Batches => Set<StoredBatch>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.Entity<StoredBatch>(b =>
        {
            b.ToTable("batches");
            b.HasKey(x => x.Id);
            b.Property(x => x.Id).HasColumnName("id");
            b.Property(x => x.Dataset).HasColumnName("dataset");
            b.Property(x => x.RowCount).HasColumnName("row_count");
            b.Property(x => x.ByteCount).HasColumnName("byte_count");
            b.Property(x => x.Sha256).HasColumnName("sha256");
            b.Property(x => x.Columns).HasColumnName("columns");
            b.Property(x => x.Content).HasColumnName("content");
            b.Property(x => x.Source).HasColumnName("source");
            b.Property(x => x.IdempotencyKey).HasColumnName("idempotency_key");
            b.Property(x => x.CorrelationId).HasColumnName("correlation_id");
            b.Property(x => x.CreatedAt).HasColumnName("created_at");
        });
    }
}

public sealed class StoredBatch
{
    public Guid Id { get; set; }
    public required string Dataset { get; set; }
    public long RowCount { get; set; }
    public long ByteCount { get; set; }
    public required string Sha256 { get; set; }
    public required string[] Columns { get; set; }
    public required byte[] Content { get; set; }
    public required string Source { get; set; }
    public string? IdempotencyKey { get; set; }
    public Guid CorrelationId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
