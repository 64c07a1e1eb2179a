using System.Text.Json;
using Ctm.Data.Parsing;
using Ctm.Ingest.Extensions;
using Ctm.Ingest.Storage;
using Ctm.ServiceDefaults.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ctm.Ingest.Batches;

/// <summary>
/// Cuts pending row events into batches: a dataset's rows become a batch when there are
/// <see cref="RowEventOptions.MaxRows"/> of them or the oldest has waited <see cref="RowEventOptions.MaxDelaySeconds"/>.
/// The batch, its outbox message and the removal of its pending rows commit together; rows are locked with
/// SKIP LOCKED so replicas never cut the same rows twice.
/// </summary>
public sealed partial class RowBatcher(
    IServiceProvider services, IOptions<IngestOptions> options, OutboxSignal signal, PendingRowsSignal rows, ILogger<RowBatcher> logger) : BackgroundService
{
    // Rows arriving wake the batcher (PostgreSQL notifies on every insert into pending_rows, at every replica), and it
    // knows when the oldest pending row falls due; the poll is only the fallback, so an idle batcher stays asleep.
    private static readonly TimeSpan FallbackPoll = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan PurgeEvery = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value.RowEvents;
        var lastPurge = DateTimeOffset.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = FallbackPoll;
            try
            {
                if (await CutDueBatchesAsync(settings, stoppingToken) is { } secondsToDue)
                {
                    wait = TimeSpan.FromSeconds(Math.Clamp(secondsToDue, 0.02, FallbackPoll.TotalSeconds));
                }

                if (DateTimeOffset.UtcNow - lastPurge > PurgeEvery)
                {
                    await ForgetOldEventIdsAsync(settings, stoppingToken);
                    lastPurge = DateTimeOffset.UtcNow;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LogCutFailed(e);
                wait = TimeSpan.FromSeconds(1);
            }

            try
            {
                await rows.WaitAsync(wait, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Cuts every batch that is due; returns the seconds until the oldest row still pending falls due (by the
    /// database's clock, which stamped the rows), or null when no row is pending.
    /// </summary>
    private async Task<double?> CutDueBatchesAsync(RowEventOptions settings, CancellationToken ct)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IngestDbContext>();
        // One batch per dataset and upstream: a batch has one source, so a rollback can select a source's batches.
        var due = new List<(string Dataset, string? Upstream)>();
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var select = new NpgsqlCommand(
                """
                SELECT dataset, upstream FROM ingest.pending_rows GROUP BY dataset, upstream
                HAVING count(*) >= @rows OR min(received_at) <= now() - make_interval(secs => @delay)
                """,
                connection);
            select.Parameters.AddWithValue("rows", (long)settings.MaxRows);
            select.Parameters.AddWithValue("delay", settings.MaxDelaySeconds);
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                due.Add((reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1)));
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }

        foreach (var (dataset, upstream) in due)
        {
            await CutAsync(scope.ServiceProvider, dataset, upstream, settings.MaxRows, ct);
        }

        return await db.Database.SqlQuery<double?>(
            $"SELECT EXTRACT(EPOCH FROM min(received_at) + make_interval(secs => {settings.MaxDelaySeconds}) - now())::float8 AS \"Value\" FROM ingest.pending_rows")
            .SingleAsync(ct);
    }

    /// <summary>Event ids older than the dedupe window are forgotten: a repeat after that is taken as new.</summary>
    private async Task ForgetOldEventIdsAsync(RowEventOptions settings, CancellationToken ct)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IngestDbContext>();
        var cutoff = DateTimeOffset.UtcNow - TimeSpan.FromHours(settings.DedupeWindowHours);
        await db.RowEventKeys.Where(k => k.ReceivedAt < cutoff).ExecuteDeleteAsync(ct);
    }

    private async Task CutAsync(IServiceProvider provider, string dataset, string? upstream, int maxRows, CancellationToken ct)
    {
        var db = provider.GetRequiredService<IngestDbContext>();
        var store = provider.GetRequiredService<BatchStore>();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        var ids = new List<long>();
        var objects = new List<Dictionary<string, string?>>();
        await using (var select = new NpgsqlCommand(
            "SELECT id, row::text FROM ingest.pending_rows WHERE dataset = @d AND upstream IS NOT DISTINCT FROM @u ORDER BY id LIMIT @n FOR UPDATE SKIP LOCKED",
            connection,
            (NpgsqlTransaction)tx.GetDbTransaction()))
        {
            select.Parameters.AddWithValue("d", dataset);
            select.Parameters.Add(new NpgsqlParameter("u", NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)upstream ?? DBNull.Value });
            select.Parameters.AddWithValue("n", maxRows);
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                ids.Add(reader.GetInt64(0));
                using var json = JsonDocument.Parse(reader.GetString(1));
                objects.Add(JsonLinesReader.ReadObject(json.RootElement, "pending row", reader.GetInt64(0)));
            }
        }

        if (ids.Count == 0)
        {
            return;
        }

        var columns = objects.SelectMany(o => o.Keys).Distinct(StringComparer.Ordinal).ToList();
        var rows = objects.Select(o => columns.Select(c => o.GetValueOrDefault(c)).ToArray()).ToList();
        await using var content = CanonicalContent.FromBatch(new TabularBatch(columns, rows));
        var (batch, _) = await store.StoreAsync(dataset, content, "bus", upstream, null, null, ct);
        await db.Database.ExecuteSqlAsync($"DELETE FROM ingest.pending_rows WHERE id = ANY({ids.ToArray()})", ct);
        await tx.CommitAsync(ct);
        signal.Notify();
        LogCut(batch.Id, dataset, ids.Count);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Cut batch {BatchId} of {Dataset} from {Rows} row events")]
    private partial void LogCut(Guid batchId, string dataset, int rows);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cutting row events into batches failed; the rows stay pending and are retried")]
    private partial void LogCutFailed(Exception error);
}
