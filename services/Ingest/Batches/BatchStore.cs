using System.Security.Cryptography;
using Ctm.Contracts;
using Ctm.Data.Parsing;
using Ctm.Ingest.Storage;
using Ctm.ServiceDefaults.Http;
using Ctm.ServiceDefaults.Storage;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ctm.Ingest.Batches;

/// <summary>Stores a parsed batch and its <see cref="BatchIngested"/> in one transaction.</summary>
public sealed class BatchStore(IngestDbContext db, OutboxSignal signal, IOptions<ServiceUrls> urls, TimeProvider clock)
{
    public async Task<(StoredBatch Batch, bool Created)> StoreAsync(
        string dataset, TabularBatch batch, string source, string? upstream, string? idempotencyKey, CancellationToken ct)
    {
        if (idempotencyKey is not null)
        {
            var existing = await FindByKeyAsync(dataset, idempotencyKey, ct);
            if (existing is not null)
            {
                return (existing, false);
            }
        }

        var content = CsvTableWriter.ToBytes(batch);
        var stored = new StoredBatch
        {
            Id = NewId.NextGuid(),
            Dataset = dataset,
            RowCount = batch.Rows.Count,
            ByteCount = content.Length,
            Sha256 = Convert.ToHexStringLower(SHA256.HashData(content)),
            Columns = [.. batch.Columns],
            Content = content,
            Source = source,
            Upstream = upstream,
            IdempotencyKey = idempotencyKey,
            CorrelationId = NewId.NextGuid(),
            CreatedAt = clock.GetUtcNow(),
        };

        var ownTransaction = db.Database.CurrentTransaction is null;
        var tx = ownTransaction ? await db.Database.BeginTransactionAsync(ct) : null;
        try
        {
            db.Batches.Add(stored);
            await db.SaveChangesAsync(ct);
            await db.EnqueueAsync(ToMessage(stored), stored.CorrelationId, ct);
            if (tx is not null)
            {
                await tx.CommitAsync(ct);
                signal.Notify();
            }
        }
        catch (DbUpdateException e) when (idempotencyKey is not null && e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            // A concurrent upload with the same key won the race: answer with its batch.
            if (tx is not null)
            {
                await tx.RollbackAsync(ct);
            }

            db.ChangeTracker.Clear();
            return ((await FindByKeyAsync(dataset, idempotencyKey, ct))!, false);
        }
        finally
        {
            if (tx is not null)
            {
                await tx.DisposeAsync();
            }
        }

        IngestMetrics.RecordBatch(stored.Id, dataset, source, stored.RowCount, stored.ByteCount);
        return (stored, true);
    }

    public string RowsLocation(Guid batchId) =>
        new Uri(ServiceUrls.Require(urls.Value.Ingest, "Ingest"), $"v1/batches/{batchId}/rows").ToString();

    private Task<StoredBatch?> FindByKeyAsync(string dataset, string key, CancellationToken ct) =>
        db.Batches.AsNoTracking().SingleOrDefaultAsync(b => b.Dataset == dataset && b.IdempotencyKey == key, ct);

    private BatchIngested ToMessage(StoredBatch b) => new()
    {
        BatchId = b.Id,
        Dataset = b.Dataset,
        CorrelationId = b.CorrelationId,
        RowCount = b.RowCount,
        Sha256 = b.Sha256,
        ByteCount = b.ByteCount,
        Location = RowsLocation(b.Id),
        Columns = b.Columns,
        Source = b.Source,
        Upstream = b.Upstream,
        IngestedAt = b.CreatedAt,
    };
}
