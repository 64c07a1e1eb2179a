using Ctm.Ingest.Storage;
using Ctm.Registry.Storage;
using Ctm.ServiceDefaults.Storage;
using Ctm.Testing;
using Ctm.Trainer.Storage;
using Ctm.Validator.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Ctm.ServiceDefaults.Tests;

/// <summary>
/// The schemas come from SQL files, the names in queries from EF Core's model (EFCore.NamingConventions): every table,
/// column, column type and primary key an entity maps must be what the service's migrations created, on a real database.
/// </summary>
public sealed class SchemaNamesTests
{
    [Fact]
    public Task IngestDbContext_EveryEntity_MatchesTheMigratedSchema() => AssertModelMatchesDatabaseAsync<IngestDbContext>();

    [Fact]
    public Task ValidatorDbContext_EveryEntity_MatchesTheMigratedSchema() => AssertModelMatchesDatabaseAsync<ValidatorDbContext>();

    [Fact]
    public Task TrainerDbContext_EveryEntity_MatchesTheMigratedSchema() => AssertModelMatchesDatabaseAsync<TrainerDbContext>();

    [Fact]
    public Task RegistryDbContext_EveryEntity_MatchesTheMigratedSchema() => AssertModelMatchesDatabaseAsync<RegistryDbContext>();

    private static async Task AssertModelMatchesDatabaseAsync<TContext>()
        where TContext : DbContext
    {
        await using var infrastructure = await IsolatedInfrastructure.CreateAsync("ctm_names");
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Postgres"] = infrastructure.ConnectionString });
        // The services' own registration, so the naming convention under test is the one they run with.
        builder.AddCtmDatabase<TContext>();
        using var host = builder.Build();
        await host.Services.GetServices<IHostedService>().OfType<SqlMigrator<TContext>>().Single().StartAsync(TestContext.Current.CancellationToken);

        await using var scope = host.Services.CreateAsyncScope();
        var model = scope.ServiceProvider.GetRequiredService<TContext>().Model;
        var schema = model.GetDefaultSchema()!;
        var database = await ReadSchemaAsync(infrastructure.ConnectionString, schema);

        var expected = new List<string>();
        var actual = new List<string>();
        foreach (var entity in model.GetEntityTypes())
        {
            var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
            var where = $"{entity.ClrType.Name} → {table.Schema}.{table.Name}";
            foreach (var property in entity.GetProperties())
            {
                var column = property.GetColumnName(table)!;
                expected.Add($"{where}.{column} {property.GetColumnType()}");
                actual.Add(database.Columns.TryGetValue((table.Name, column), out var type)
                    ? $"{where}.{column} {type}"
                    : $"{where}.{column} is not in the database");
            }

            var key = string.Join(", ", entity.FindPrimaryKey()!.Properties.Select(p => p.GetColumnName(table)));
            expected.Add($"{where} primary key ({key})");
            actual.Add($"{where} primary key ({database.PrimaryKeys.GetValueOrDefault(table.Name, "none")})");
        }

        Assert.NotEmpty(expected);
        Assert.Equal(expected, actual);
    }

    private static async Task<(Dictionary<(string Table, string Column), string> Columns, Dictionary<string, string> PrimaryKeys)> ReadSchemaAsync(
        string connectionString, string schema)
    {
        var columns = new Dictionary<(string, string), string>();
        var keys = new Dictionary<string, string>(StringComparer.Ordinal);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        // format_type spells types as EF Core's Npgsql provider does ("timestamp with time zone", "uuid[]").
        await using (var command = new NpgsqlCommand(
            """
            SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
            FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = @schema AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
            """,
            connection))
        {
            command.Parameters.AddWithValue("schema", schema);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                columns[(reader.GetString(0), reader.GetString(1))] = reader.GetString(2);
            }
        }

        await using (var command = new NpgsqlCommand(
            """
            SELECT c.relname, string_agg(a.attname, ', ' ORDER BY k.ordinality)
            FROM pg_index i
            JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ordinality)
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
            WHERE n.nspname = @schema AND i.indisprimary
            GROUP BY c.relname
            """,
            connection))
        {
            command.Parameters.AddWithValue("schema", schema);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                keys[reader.GetString(0)] = reader.GetString(1);
            }
        }

        return (columns, keys);
    }
}
