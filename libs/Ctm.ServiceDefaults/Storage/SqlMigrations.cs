using System.Reflection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Ctm.ServiceDefaults.Storage;

/// <summary>
/// SQL migrations, embedded in the service's assembly as <c>*.sql</c> resources and applied in name order at
/// start-up, each once, in its own transaction, under an advisory lock so that replicas starting together do not
/// race. Every schema also gets the messaging tables (outbox and processed-message keys) first.
/// </summary>
/// <remarks>
/// SQL files rather than EF Core migrations (Microsoft.EntityFrameworkCore.Design and <c>dotnet-ef</c> are served
/// now), because they stay simpler here: the SQL is the reviewed contract of each schema (partial unique indexes,
/// sequences, CHECK constraints and column defaults that the EF model does not describe, and tables such as
/// <c>pending_rows</c> that no entity maps); one runner serves all four services and the outbox tables; a script is
/// recorded in <c>schema_migrations</c> so a restart or a second replica applies nothing twice; and CI needs no
/// design-time tool or model snapshot. The EF model only has to name what the SQL creates: EFCore.NamingConventions
/// gives snake_case, and <c>SchemaNamesTests</c> checks every entity against the live schema.
/// </remarks>
public sealed partial class SqlMigrator<TContext>(IServiceProvider services, ILogger<SqlMigrator<TContext>> logger) : IHostedService
    where TContext : DbContext
{
    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TContext>();
        var schema = db.Model.GetDefaultSchema() ?? throw new InvalidOperationException($"{typeof(TContext).Name} has no default schema");
        var scripts = new List<(string Id, string Sql)> { ("0000_messaging", MessagingTables.Sql(schema)), ("0000_messaging_trace", MessagingTables.TraceSql(schema)), ("0000_messaging_wakeup", MessagingTables.WakeupSql(schema)) };
        var assembly = typeof(TContext).Assembly;
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.EndsWith(".sql", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            scripts.Add((ScriptId(name), await ReadAsync(assembly, name, cancellationToken)));
        }

        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        await OpenWithRetryAsync(connection, cancellationToken);
        try
        {
            await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_lock(hashtext(@s))", connection))
            {
                lockCommand.Parameters.AddWithValue("s", "ctm-migrations:" + schema);
                await lockCommand.ExecuteNonQueryAsync(cancellationToken);
            }

            await Execute(connection, null, $"CREATE SCHEMA IF NOT EXISTS {schema}; CREATE TABLE IF NOT EXISTS {schema}.schema_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());", cancellationToken);
            var applied = new HashSet<string>(StringComparer.Ordinal);
            await using (var read = new NpgsqlCommand($"SELECT id FROM {schema}.schema_migrations", connection))
            await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    applied.Add(reader.GetString(0));
                }
            }

            foreach (var (id, sql) in scripts.Where(s => !applied.Contains(s.Id)))
            {
                await using var tx = await connection.BeginTransactionAsync(cancellationToken);
                await Execute(connection, tx, sql.Replace("{schema}", schema, StringComparison.Ordinal), cancellationToken);
                await using (var record = new NpgsqlCommand($"INSERT INTO {schema}.schema_migrations (id) VALUES (@id)", connection, tx))
                {
                    record.Parameters.AddWithValue("id", id);
                    await record.ExecuteNonQueryAsync(cancellationToken);
                }

                await tx.CommitAsync(cancellationToken);
                LogApplied(id, schema);
            }
        }
        finally
        {
            await connection.CloseAsync();
        }
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task OpenWithRetryAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await connection.OpenAsync(ct);
                return;
            }
            catch (NpgsqlException e) when (attempt < 30)
            {
                LogUnreachable(e.Message, attempt);
                await Task.Delay(TimeSpan.FromSeconds(1), ct);
            }
        }
    }

    private static async Task Execute(NpgsqlConnection connection, NpgsqlTransaction? tx, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection, tx);
        await command.ExecuteNonQueryAsync(ct);
    }

    private static string ScriptId(string resourceName)
    {
        var withoutExtension = resourceName[..^4];
        var dot = withoutExtension.LastIndexOf('.');
        return dot < 0 ? withoutExtension : withoutExtension[(dot + 1)..];
    }

    private static async Task<string> ReadAsync(Assembly assembly, string name, CancellationToken ct)
    {
        await using var stream = assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync(ct);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied migration {Migration} to schema {Schema}")]
    private partial void LogApplied(string migration, string schema);

    [LoggerMessage(Level = LogLevel.Warning, Message = "PostgreSQL is not reachable yet ({Error}); attempt {Attempt} of 30. Is it running? (./ctm infra up)")]
    private partial void LogUnreachable(string error, int attempt);
}

internal static class MessagingTables
{
    public static string Sql(string schema) => $"""
        CREATE TABLE IF NOT EXISTS {schema}.outbox (
            id bigserial PRIMARY KEY,
            message_id uuid NOT NULL UNIQUE,
            message_type text NOT NULL,
            payload jsonb NOT NULL,
            correlation_id uuid NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            sent_at timestamptz NULL
        );
        CREATE INDEX IF NOT EXISTS outbox_unsent ON {schema}.outbox (id) WHERE sent_at IS NULL;
        CREATE TABLE IF NOT EXISTS {schema}.processed_messages (
            consumer text NOT NULL,
            key text NOT NULL,
            processed_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (consumer, key)
        );
        """;

    // The trace that wrote an outbox row, so the relay's publish continues it (W3C traceparent).
    public static string TraceSql(string schema) => $"ALTER TABLE {schema}.outbox ADD COLUMN IF NOT EXISTS trace_parent text NULL;";

    /// <summary>The channel a schema's outbox notifies when rows are committed into it (<see cref="PostgresWakeups"/>).</summary>
    public static string Channel(string schema) => "ctm_outbox_" + schema;

    // wakeup() notifies the channel its trigger names; a schema's tables that background loops wait on (the outbox here,
    // others in the service's own migrations) get a statement trigger calling it. So every insert wakes the loops of
    // every replica at commit, whichever code wrote it.
    public static string WakeupSql(string schema) => $"""
        CREATE OR REPLACE FUNCTION {schema}.wakeup() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify(TG_ARGV[0], '');
            RETURN NULL;
        END $$;
        CREATE OR REPLACE TRIGGER wakeup AFTER INSERT ON {schema}.outbox FOR EACH STATEMENT EXECUTE FUNCTION {schema}.wakeup('{Channel(schema)}');
        """;
}
