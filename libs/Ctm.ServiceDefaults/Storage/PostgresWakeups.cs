using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Ctm.ServiceDefaults.Storage;

/// <summary>
/// A PostgreSQL notification channel and what to wake when it fires. Tables that background loops wait on (the
/// outbox, Ingest's pending rows, the Trainer's jobs) notify their channel from a statement trigger, so the
/// notification arrives on commit, at every replica, whichever code path wrote the rows.
/// </summary>
/// <param name="Channel">The channel's name, resolved once the service provider exists (it may need the schema).</param>
/// <param name="Wake">What to call when the channel fires, and after the listener (re)connects.</param>
public sealed record PostgresWakeup(Func<IServiceProvider, string> Channel, Func<IServiceProvider, Action> Wake);

/// <summary>
/// Holds one connection that <c>LISTEN</c>s on every registered <see cref="PostgresWakeup"/> channel and calls its
/// wake action on each notification. This is what lets the outbox relay, the row batcher and the training worker
/// sleep while nothing happens, instead of asking the database every second; their polls remain, long, as the
/// fallback. Whenever the listening connection is (re)made, every action is called once, for what was committed while
/// nobody listened.
/// </summary>
public sealed partial class PostgresWakeups(
    IServiceProvider services, IEnumerable<PostgresWakeup> wakeups, IConfiguration configuration, ILogger<PostgresWakeups> logger) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var channels = new Dictionary<string, Action>(StringComparer.Ordinal);
        foreach (var wakeup in wakeups)
        {
            var channel = wakeup.Channel(services);
            var wake = wakeup.Wake(services);
            channels[channel] = channels.TryGetValue(channel, out var earlier) ? earlier + wake : wake;
        }

        if (channels.Count == 0)
        {
            return;
        }

        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ListenAsync(channels, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException or System.IO.IOException)
            {
                failures++;
                LogListenFailed(e, failures);
                WakeAll(channels); // the loops poll once more while the listener is away
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(30, failures)), stoppingToken);
            }
        }
    }

    private async Task ListenAsync(Dictionary<string, Action> channels, CancellationToken ct)
    {
        var builder = new NpgsqlConnectionStringBuilder(configuration.GetConnectionString("Postgres"))
        {
            // A listening connection is held for good: keep it out of the pool the request paths use.
            Pooling = false,
            ApplicationName = "ctm-wakeups",
        };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        connection.Notification += (_, e) =>
        {
            if (channels.TryGetValue(e.Channel, out var wake))
            {
                wake();
            }
        };
        await connection.OpenAsync(ct);
        foreach (var channel in channels.Keys)
        {
            // Channel names come from code (a schema name and a fixed prefix), never from input.
            await using var listen = new NpgsqlCommand($"LISTEN \"{channel}\"", connection);
            await listen.ExecuteNonQueryAsync(ct);
        }

        LogListening(channels.Count, string.Join(", ", channels.Keys));
        WakeAll(channels);
        while (true)
        {
            // Returns on a notification (the handler above has run) or after the timeout; a broken connection throws.
            await connection.WaitAsync(TimeSpan.FromMinutes(1), ct);
        }
    }

    private static void WakeAll(Dictionary<string, Action> channels)
    {
        foreach (var wake in channels.Values)
        {
            wake();
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Listening for wake-ups on {Count} PostgreSQL channels: {Channels}")]
    private partial void LogListening(int count, string channels);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Listening for PostgreSQL wake-ups failed ({Failures} in a row); the background loops poll until it is back")]
    private partial void LogListenFailed(Exception error, int failures);
}

/// <summary>Registration of <see cref="PostgresWakeups"/>.</summary>
public static class PostgresWakeupExtensions
{
    /// <summary>Wakes <paramref name="wake"/> whenever <paramref name="channel"/> is notified.</summary>
    public static IServiceCollection AddPostgresWakeup(this IServiceCollection services, Func<IServiceProvider, string> channel, Func<IServiceProvider, Action> wake)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton(new PostgresWakeup(channel, wake));
        if (!services.Any(d => d.ImplementationType == typeof(PostgresWakeups)))
        {
            services.AddHostedService<PostgresWakeups>();
        }

        return services;
    }
}
