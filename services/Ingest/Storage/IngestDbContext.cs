using Microsoft.EntityFrameworkCore;

namespace Ctm.Ingest.Storage;

public sealed class IngestDbContext(DbContextOptions<IngestDbContext> options) : DbContext(options)
{
    public const string Schema = "ingest";

    public DbSet<StoredBatch> Batches => Set<StoredBatch>();
    public DbSet<RowEventKey> RowEventKeys => Set<RowEventKey>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.Entity<StoredBatch>(b =>
        {
            b.ToTable("batches");
            b.HasKey(x => x.Id);
        });
        modelBuilder.Entity<RowEventKey>(b =>
        {
            b.ToTable("row_event_keys");
            b.HasKey(x => x.EventKey);
        });
    }
}

/// <summary>A batch's record. Its content (the canonical CSV, column <c>content</c>) is written and read as a stream by <c>BatchStore</c>, never loaded here.</summary>
public sealed class StoredBatch
{
    public Guid Id { get; set; }
    public required string Dataset { get; set; }
    public long RowCount { get; set; }
    public long ByteCount { get; set; }
    public required string Sha256 { get; set; }
    public required string[] Columns { get; set; }
    public required string Source { get; set; }
    public string? Upstream { get; set; }
    public string? IdempotencyKey { get; set; }
    public string? RequestSha256 { get; set; }
    public Guid CorrelationId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>An event id seen on the row exchange, remembered for the dedupe window.</summary>
public sealed class RowEventKey
{
    public required string EventKey { get; set; }
    public DateTimeOffset ReceivedAt { get; set; }
}
