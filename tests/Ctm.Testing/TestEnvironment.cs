using System.Net.Sockets;
using Npgsql;

namespace Ctm.Testing;

/// <summary>
/// Where the real PostgreSQL and RabbitMQ are: <c>CTM_TEST_POSTGRES</c>, <c>CTM_TEST_RABBITMQ</c> and
/// <c>CTM_TEST_RABBITMQ_MANAGEMENT</c>, defaulting to what <c>./ctm infra up</c> starts on loopback.
/// </summary>
public static class TestEnvironment
{
    public const string HowToStart = "Start them with './ctm infra up' (or run the whole suite with './ctm test'), or point CTM_TEST_POSTGRES / CTM_TEST_RABBITMQ / CTM_TEST_RABBITMQ_MANAGEMENT at running servers.";

    public static string PostgresAdmin =>
        Environment.GetEnvironmentVariable("CTM_TEST_POSTGRES") is { Length: > 0 } s ? s : "Host=127.0.0.1;Port=55432;Username=ctm;Password=ctm;Database=postgres";

    public static Uri RabbitMq =>
        new(Environment.GetEnvironmentVariable("CTM_TEST_RABBITMQ") is { Length: > 0 } s ? s : $"amqp://{DefaultBrokerAdmin}@127.0.0.1:5672/");

    public static Uri RabbitMqManagement =>
        new(Environment.GetEnvironmentVariable("CTM_TEST_RABBITMQ_MANAGEMENT") is { Length: > 0 } s ? s : $"http://{DefaultBrokerAdmin}@127.0.0.1:15672/");

    // The administrator './ctm infra up' made (its password in .ctm/broker/); guest only on a node made before there were users.
    private static string DefaultBrokerAdmin =>
        Path.Combine(RepositoryRoot, ".ctm", "broker", "passwords", "admin") is var file && File.Exists(file)
            ? $"ctm-admin:{Uri.EscapeDataString(File.ReadAllText(file).Trim())}"
            : "guest:guest";

    /// <summary>Fails (never skips) with instructions when a server is unreachable.</summary>
    public static async Task RequireInfrastructureAsync()
    {
        await RequirePostgresAsync(PostgresAdmin);
        try
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(RabbitMq.Host, RabbitMq.Port);
        }
        catch (SocketException e)
        {
            throw new InvalidOperationException($"RabbitMQ is not reachable at {RabbitMq.Host}:{RabbitMq.Port}: {e.Message}. {HowToStart}", e);
        }
    }

    /// <summary>Fails (never skips) with instructions when the PostgreSQL server at <paramref name="postgresAdmin"/> is unreachable.</summary>
    public static async Task RequirePostgresAsync(string postgresAdmin)
    {
        try
        {
            await using var connection = new NpgsqlConnection(postgresAdmin);
            await connection.OpenAsync();
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException)
        {
            throw new InvalidOperationException($"PostgreSQL is not reachable at '{postgresAdmin}': {e.Message}. {HowToStart}", e);
        }
    }

    public static int FreePort()
    {
        var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>The repository root (the folder holding Ctm.sln).</summary>
    public static string RepositoryRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Ctm.sln")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new InvalidOperationException($"Ctm.sln not found above {AppContext.BaseDirectory}");
        }
    }
}
