using System.Net.Http.Headers;
using System.Text;

namespace Ctm.Testing;

/// <summary>A database and a RabbitMQ virtual host of their own for one test class: tests never see each other's messages or rows.</summary>
public sealed class IsolatedInfrastructure : IAsyncDisposable
{
    private readonly TestDatabase _database;
    private readonly Dictionary<string, BrokerCredentials> _brokerUsers = new(StringComparer.Ordinal);

    private IsolatedInfrastructure(TestDatabase database, string virtualHost, Uri rabbitMq, Uri rabbitMqManagement)
    {
        _database = database;
        VirtualHost = virtualHost;
        RabbitMq = rabbitMq;
        RabbitMqManagement = rabbitMqManagement;
    }

    /// <summary>The broker (AMQP, administrator's credentials) the virtual host is on.</summary>
    public Uri RabbitMq { get; }

    /// <summary>Its management API, administrator's credentials.</summary>
    public Uri RabbitMqManagement { get; }

    public string Database => _database.Name;
    public string VirtualHost { get; }

    public string ConnectionString => _database.ConnectionString;

    /// <summary>
    /// Creates the database on <paramref name="postgresAdmin"/> and the virtual host on <paramref name="rabbitMq"/>
    /// (management API <paramref name="rabbitMqManagement"/>; both with an administrator's credentials); by default the shared servers.
    /// </summary>
    public static async Task<IsolatedInfrastructure> CreateAsync(string prefix, string? postgresAdmin = null, Uri? rabbitMq = null, Uri? rabbitMqManagement = null)
    {
        await TestEnvironment.RequireInfrastructureAsync();
        postgresAdmin ??= TestEnvironment.PostgresAdmin;
        rabbitMq ??= TestEnvironment.RabbitMq;
        rabbitMqManagement ??= TestEnvironment.RabbitMqManagement;
        var suffix = Guid.NewGuid().ToString("N")[..10];
        var database = await TestDatabase.CreateAsync(prefix, postgresAdmin, suffix);

        var vhost = $"{prefix}-{suffix}";
        using var http = Management(rabbitMqManagement);
        var response = await http.PutAsync($"api/vhosts/{Uri.EscapeDataString(vhost)}", new StringContent("{}", Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
        var user = Uri.UnescapeDataString(rabbitMq.UserInfo.Split(':')[0]);
        response = await http.PutAsync(
            $"api/permissions/{Uri.EscapeDataString(vhost)}/{Uri.EscapeDataString(user)}",
            new StringContent("""{"configure":".*","write":".*","read":".*"}""", Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
        return new IsolatedInfrastructure(database, vhost, rabbitMq, rabbitMqManagement);
    }

    /// <summary>
    /// A broker user of its own for <paramref name="role"/> (<see cref="BrokerPermissions"/>) on this virtual host only,
    /// with a random password; made on first use and deleted with the virtual host.
    /// </summary>
    public async Task<BrokerCredentials> BrokerUserAsync(string role)
    {
        if (_brokerUsers.TryGetValue(role, out var existing))
        {
            return existing;
        }

        var permissions = BrokerPermissions.Roles.TryGetValue(role, out var r)
            ? r
            : throw new ArgumentException($"no role '{role}' in {BrokerPermissions.FilePath}", nameof(role));
        var credentials = new BrokerCredentials($"{VirtualHost}.{role}", Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)));
        using var http = Management(RabbitMqManagement);
        var name = Uri.EscapeDataString(credentials.Username);
        var response = await http.PutAsync($"api/users/{name}", Json(new { password = credentials.Password, tags = permissions.Tags }));
        response.EnsureSuccessStatusCode();
        response = await http.PutAsync(
            $"api/permissions/{Uri.EscapeDataString(VirtualHost)}/{name}",
            Json(new { configure = permissions.Configure, write = permissions.Write, read = permissions.Read }));
        response.EnsureSuccessStatusCode();
        _brokerUsers[role] = credentials;
        return credentials;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var http = Management(RabbitMqManagement);
            foreach (var user in _brokerUsers.Values)
            {
                await http.DeleteAsync($"api/users/{Uri.EscapeDataString(user.Username)}");
            }

            await http.DeleteAsync($"api/vhosts/{Uri.EscapeDataString(VirtualHost)}");
        }
        catch (Exception)
        {
            // Cleanup is best effort: names are unique, so leftovers never affect another run.
        }

        await _database.DisposeAsync();
    }

    private static StringContent Json<T>(T value) => new(System.Text.Json.JsonSerializer.Serialize(value), Encoding.UTF8, "application/json");

    private static HttpClient Management(Uri uri)
    {
        var client = new HttpClient { BaseAddress = new Uri(uri.GetLeftPart(UriPartial.Authority) + "/") };
        var credentials = Uri.UnescapeDataString(uri.UserInfo is { Length: > 0 } u ? u : "guest:guest");
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        return client;
    }
}
