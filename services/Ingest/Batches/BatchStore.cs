using Ctm.Contracts;
using Ctm.Ingest.Storage;
using Ctm.ServiceDefaults.Http;
using Ctm.ServiceDefaults.Storage;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace Ctm.Ingest.Batches;

/// <summary>What storing a batch came to.</summary>
public enum StoreOutcome
{
    /// <summary>A new batch, announced by <see cref="BatchIngested"/>.</summary>
    Created,

    /// <summary>The Idempotency-Key was used before with the same body: the first batch.</summary>
    Replayed,

    /// <summary>The Idempotency-Key was used before with another body: nothing stored.</summary>
    KeyReused,
}

/// <summary>Stores a batch's content (in chunks, never held whole) and its <see cref="BatchIngested"/> in one transaction.</summary>
public sealed class BatchStore(IngestDbContext db, OutboxSignal signal, IOptions<ServiceUrls> urls, TimeProvider clock)
{
    /// <summary>Stores <paramref name="content"/>; <paramref name="requestSha256"/> (of the request body) is what an <paramref name="idempotencyKey"/> is bound to.</summary>
    public async Task<(StoredBatch Batch, StoreOutcome Outcome)> StoreAsync(
        string dataset, CanonicalContent content, string source, string? upstream, string? idempotencyKey, string? requestSha256, CancellationToken ct)
    {
        if (idempotencyKey is not null && await FindByKeyAsync(dataset, idempotencyKey, ct) is { } existing)
        {
            return (existing, Replay(existing, requestSha256));
        }

        var stored = new StoredBatch
        {
            Id = NewId.NextGuid(),
            Dataset = dataset,
            RowCount = content.RowCount,
            ByteCount = content.ByteCount,
            Sha256 = content.Sha256,
            Columns = [.. content.Columns],
            Source = source,
            Upstream = upstream,
            IdempotencyKey = idempotencyKey,
            RequestSha256 = requestSha256,
            CorrelationId = NewId.NextGuid(),
            CreatedAt = clock.GetUtcNow(),
        };

        var ownTransaction = db.Database.CurrentTransaction is null;
        var tx = ownTransaction ? await db.Database.BeginTransactionAsync(ct) : null;
        try
        {
            await InsertAsync(stored, content.Content, ct);
            await db.EnqueueAsync(ToMessage(stored), stored.CorrelationId, ct);
            if (tx is not null)
            {
                await tx.CommitAsync(ct);
                signal.Notify();
            }
        }
        catch (PostgresException e) when (idempotencyKey is not null && tx is not null && e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // A concurrent upload with the same key won the race: answer as if it had come first.
            await tx.RollbackAsync(ct);
            var winner = (await FindByKeyAsync(dataset, idempotencyKey, ct))!;
            return (winner, Replay(winner, requestSha256));
        }
        finally
        {
            if (tx is not null)
            {
                await tx.DisposeAsync();
            }
        }

        IngestMetrics.RecordBatch(stored.Id, dataset, source, stored.RowCount, stored.ByteCount);
        return (stored, StoreOutcome.Created);
    }

    /// <summary>Writes the batch's content (canonical CSV) to <paramref name="response"/> straight from the database; false when there is no such batch.</summary>
    public async Task<bool> CopyContentAsync(Guid id, HttpResponse response, CancellationToken ct)
    {
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var select = new NpgsqlCommand($"SELECT sha256, byte_count, content FROM {IngestDbContext.Schema}.batches WHERE id = @id", connection);
            select.Parameters.AddWithValue("id", id);
            await using var reader = await select.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, ct);
            if (!await reader.ReadAsync(ct))
            {
                return false;
            }

            var sha256 = reader.GetString(0);
            response.ContentType = "text/csv; charset=utf-8";
            response.ContentLength = reader.GetInt64(1);
            response.Headers["X-Content-SHA256"] = sha256;
            response.Headers.ETag = $"\"{sha256}\"";
            if (!await reader.IsDBNullAsync(2, ct))
            {
                // A batch stored before chunks: one value.
                await using var whole = await reader.GetStreamAsync(2, ct);
                await whole.CopyToAsync(response.Body, ct);
                return true;
            }

            await reader.DisposeAsync();
            await using var chunks = new NpgsqlCommand($"SELECT data FROM {IngestDbContext.Schema}.batch_chunks WHERE batch_id = @id ORDER BY seq", connection);
            chunks.Parameters.AddWithValue("id", id);
            await using var rows = await chunks.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, ct);
            while (await rows.ReadAsync(ct))
            {
                await using var chunk = await rows.GetStreamAsync(0, ct);
                await chunk.CopyToAsync(response.Body, ct);
            }

            return true;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    public string RowsLocation(Guid batchId) =>
        new Uri(ServiceUrls.Require(urls.Value.Ingest, "Ingest"), $"v1/batches/{batchId}/rows").ToString();

    // A batch stored before request hashes were kept (null) is taken as the same request.
    private static StoreOutcome Replay(StoredBatch existing, string? requestSha256) =>
        existing.RequestSha256 is null || requestSha256 is null || string.Equals(existing.RequestSha256, requestSha256, StringComparison.Ordinal)
            ? StoreOutcome.Replayed
            : StoreOutcome.KeyReused;

    private const int ChunkBytes = 4 * 1024 * 1024;

    private async Task InsertAsync(StoredBatch b, Stream content, CancellationToken ct)
    {
        await db.Database.ExecuteSqlRawAsync(
            $"""
            INSERT INTO {IngestDbContext.Schema}.batches
                (id, dataset, row_count, byte_count, sha256, columns, content, source, upstream, idempotency_key, request_sha256, correlation_id, created_at)
            VALUES (@id, @dataset, @rows, @bytes, @sha256, @columns, NULL, @source, @upstream, @key, @request, @correlation, @created)
            """,
            [
                new NpgsqlParameter("id", b.Id),
                new NpgsqlParameter("dataset", b.Dataset),
                new NpgsqlParameter("rows", b.RowCount),
                new NpgsqlParameter("bytes", b.ByteCount),
                new NpgsqlParameter("sha256", b.Sha256),
                new NpgsqlParameter("columns", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = b.Columns },
                new NpgsqlParameter("source", b.Source),
                new NpgsqlParameter("upstream", NpgsqlDbType.Text) { Value = (object?)b.Upstream ?? DBNull.Value },
                new NpgsqlParameter("key", NpgsqlDbType.Text) { Value = (object?)b.IdempotencyKey ?? DBNull.Value },
                new NpgsqlParameter("request", NpgsqlDbType.Text) { Value = (object?)b.RequestSha256 ?? DBNull.Value },
                new NpgsqlParameter("correlation", b.CorrelationId),
                new NpgsqlParameter("created", b.CreatedAt),
            ],
            ct);

        // One chunk in memory at a time: a bytea parameter is a single buffer on the client, whatever its source.
        var buffer = new byte[ChunkBytes];
        for (var seq = 0; ; seq++)
        {
            var filled = 0;
            int read;
            while (filled < buffer.Length && (read = await content.ReadAsync(buffer.AsMemory(filled), ct)) > 0)
            {
                filled += read;
            }

            if (filled == 0 && seq > 0)
            {
                break;
            }

            await db.Database.ExecuteSqlRawAsync(
                $"INSERT INTO {IngestDbContext.Schema}.batch_chunks (batch_id, seq, data) VALUES (@id, @seq, @data)",
                [
                    new NpgsqlParameter("id", b.Id),
                    new NpgsqlParameter("seq", seq),
                    new NpgsqlParameter("data", NpgsqlDbType.Bytea) { Value = new ArraySegment<byte>(buffer, 0, filled) },
                ],
                ct);
            if (filled < buffer.Length)
            {
                break;
            }
        }
    }

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
