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
    public string? Upstream { get; set; }
    public string? IdempotencyKey { get; set; }
    public Guid CorrelationId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
