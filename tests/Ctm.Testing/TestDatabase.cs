using Npgsql;

namespace Ctm.Testing;

/// <summary>
/// A PostgreSQL database of its own, made on the shared server (or <c>postgresAdmin</c>) and dropped on dispose, so
/// that a test class never sees another's rows. Names are unique, so a database a crashed run left behind harms nothing.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private readonly string _postgresAdmin;

    private TestDatabase(string name, string postgresAdmin)
    {
        Name = name;
        _postgresAdmin = postgresAdmin;
    }

    public string Name { get; }

    public string ConnectionString => new NpgsqlConnectionStringBuilder(_postgresAdmin) { Database = Name, MaxPoolSize = 20 }.ConnectionString;

    /// <summary>Creates <c>{prefix}_{random}</c>; fails, saying how to start it, when the server is unreachable.</summary>
    public static async Task<TestDatabase> CreateAsync(string prefix, string? postgresAdmin = null, string? suffix = null)
    {
        postgresAdmin ??= TestEnvironment.PostgresAdmin;
        await TestEnvironment.RequirePostgresAsync(postgresAdmin);
        var name = $"{prefix}_{suffix ?? Guid.NewGuid().ToString("N")[..10]}".ToLowerInvariant();
        await using var connection = new NpgsqlConnection(postgresAdmin);
        await connection.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await create.ExecuteNonQueryAsync();
        return new TestDatabase(name, postgresAdmin);
    }

    /// <summary>The first column of the first row of <paramref name="sql"/> (parameters <c>@p0</c>, <c>@p1</c>, ...), or default when no row.</summary>
    public async Task<T?> ScalarAsync<T>(string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = Command(sql, connection, parameters);
        var value = await command.ExecuteScalarAsync();
        return value is null or DBNull ? default : (T)value;
    }

    /// <summary>Every row of <paramref name="sql"/> as column name → value (DBNull as null).</summary>
    public async Task<IReadOnlyList<IReadOnlyDictionary<string, object?>>> RowsAsync(string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = Command(sql, connection, parameters);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<IReadOnlyDictionary<string, object?>>();
        while (await reader.ReadAsync())
        {
            var row = new Dictionary<string, object?>(StringComparer.Ordinal);
            for (var i = 0; i < reader.FieldCount; i++)
            {
                row[reader.GetName(i)] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }

            rows.Add(row);
        }

        return rows;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await using var connection = new NpgsqlConnection(_postgresAdmin);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync();
        }
        catch (Exception)
        {
            // Cleanup is best effort: names are unique, so a leftover never affects another run.
        }
    }

    private static NpgsqlCommand Command(string sql, NpgsqlConnection connection, object[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection);
        for (var i = 0; i < parameters.Length; i++)
        {
            command.Parameters.AddWithValue($"p{i}", parameters[i]);
        }

        return command;
    }
}
