using System.Text.Json;
using System.Diagnostics;
using Ctm.Contracts;
using Ctm.ServiceDefaults.Telemetry;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Ctm.ServiceDefaults.Storage;

/// <summary>
/// The transactional outbox (MassTransit's EF outbox is not served here). A message is written in the same
/// transaction as the effects it announces, so it exists if and only if they were committed; the relay
/// publishes it later, with its outbox id as the MessageId, and marks it sent after the broker confirms.
/// </summary>
public static class OutboxExtensions
{
    /// <summary>
    /// Writes <paramref name="message"/> to the outbox of <paramref name="db"/>'s schema in the current transaction.
    /// Call inside an explicit transaction, then <see cref="WakeSignal.Notify"/> on <see cref="OutboxSignal"/> after commit (the relay of every replica is also woken by PostgreSQL at commit).
    /// </summary>
    public static async Task EnqueueAsync<T>(this DbContext db, T message, Guid correlationId, CancellationToken ct)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(db);
        var schema = db.Model.GetDefaultSchema();
        var payload = JsonSerializer.Serialize(message, JsonSerializerOptions.Web);
        var messageId = NewId.NextGuid();
        // The schema comes from the model, never from input.
        var sql = "INSERT INTO " + schema + ".outbox (message_id, message_type, payload, correlation_id, trace_parent) VALUES ({0}, {1}, {2}::jsonb, {3}, NULLIF({4}, ''))";
        // '' rather than null: a raw SQL parameter needs a type, and a null has none (no trace when nothing listens).
        var traceParent = CtmTelemetry.CurrentTraceParent() ?? "";
        await db.Database.ExecuteSqlRawAsync(sql, [messageId, typeof(T).FullName!, payload, correlationId, traceParent], ct);
    }

    /// <summary>
    /// Records that <paramref name="consumer"/> handled <paramref name="key"/> (a business id), in the current
    /// transaction. Returns false when it already had, so a redelivered message has no second effect; a concurrent
    /// duplicate waits for the first transaction and then gets false.
    /// </summary>
    public static async Task<bool> TryMarkProcessedAsync(this DbContext db, string consumer, string key, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        var schema = db.Model.GetDefaultSchema();
        var sql = "INSERT INTO " + schema + ".processed_messages (consumer, key) VALUES ({0}, {1}) ON CONFLICT DO NOTHING";
        var inserted = await db.Database.ExecuteSqlRawAsync(sql, [consumer, key], ct);
        return inserted == 1;
    }
}

/// <summary>Publishes committed outbox rows: <c>FOR UPDATE SKIP LOCKED</c>, so replicas share the work without sending a row twice.</summary>
public sealed partial class OutboxRelay<TContext>(IServiceProvider services, OutboxSignal signal, ILogger<OutboxRelay<TContext>> logger) : BackgroundService
    where TContext : DbContext
{
    private static readonly TimeSpan FallbackPoll = TimeSpan.FromSeconds(30);
    private static readonly Dictionary<string, Type> MessageTypes = typeof(BatchIngested).Assembly.GetTypes()
        .Where(t => t.FullName is not null)
        .ToDictionary(t => t.FullName!, StringComparer.Ordinal);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var bus = services.GetRequiredService<IBus>();
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var sent = await RelayBatchAsync(bus, stoppingToken);
                failures = 0;
                if (sent > 0)
                {
                    continue;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                failures++;
                LogRelayFailed(e, failures);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 200 * failures)), stoppingToken);
                continue;
            }

            try
            {
                // Commits into the outbox wake the relay (this process's signal, and every replica's through
                // PostgreSQL's notification); the poll is only the fallback, so a quiet service leaves the database alone.
                await signal.WaitAsync(FallbackPoll, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task<int> RelayBatchAsync(IBus bus, CancellationToken ct)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TContext>();
        var schema = db.Model.GetDefaultSchema();
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        await connection.OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var rows = new List<(long Id, Guid MessageId, string Type, string Payload, Guid CorrelationId, string? TraceParent, DateTime CreatedAt)>();
        await using (var select = new NpgsqlCommand(
            $"SELECT id, message_id, message_type, payload::text, correlation_id, trace_parent, created_at FROM {schema}.outbox WHERE sent_at IS NULL ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED",
            connection,
            tx))
        await using (var reader = await select.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                rows.Add((reader.GetInt64(0), reader.GetGuid(1), reader.GetString(2), reader.GetString(3), reader.GetGuid(4),
                    reader.IsDBNull(5) ? null : reader.GetString(5), reader.GetDateTime(6)));
            }
        }

        if (rows.Count == 0)
        {
            return 0;
        }

        foreach (var row in rows)
        {
            if (!MessageTypes.TryGetValue(row.Type, out var type))
            {
                throw new InvalidOperationException($"Outbox row {row.Id} has unknown message type {row.Type}");
            }

            var message = JsonSerializer.Deserialize(row.Payload, type, JsonSerializerOptions.Web)!;
            // The publish continues the trace that committed the row; MassTransit carries it on in the headers.
            using (CtmTelemetry.StartContinuation("outbox " + type.Name, row.TraceParent, ActivityKind.Producer))
            {
                // Publish completes after the broker's confirm (publisher confirms are on).
                await bus.Publish(message, type, context =>
                {
                    context.MessageId = row.MessageId;
                    context.CorrelationId = row.CorrelationId;
                }, ct);
            }

            var tags = new TagList { { "message_type", type.Name } };
            MessagingMetrics.OutboxLag.Record((DateTime.UtcNow - row.CreatedAt).TotalSeconds, tags);
            MessagingMetrics.OutboxPublished.Add(1, tags);
        }

        await using (var update = new NpgsqlCommand($"UPDATE {schema}.outbox SET sent_at = now() WHERE id = ANY(@ids)", connection, tx))
        {
            update.Parameters.AddWithValue("ids", rows.Select(r => r.Id).ToArray());
            await update.ExecuteNonQueryAsync(ct);
        }

        await tx.CommitAsync(ct);
        return rows.Count;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox relay failed ({Failures} in a row); the rows stay unsent and are retried")]
    private partial void LogRelayFailed(Exception error, int failures);
}
