using Microsoft.AspNetCore.Http.HttpResults;
using System.Runtime.CompilerServices;
using Ctm.Registry.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Ctm.Registry.Console;

/// <summary>
/// Server-sent events for the console: a <c>change</c> event whenever the audit log, the promotions, the versions, the
/// tracked batches or a replica's serving state changed. The stream polls the tables rather than hooking the writers,
/// because several Registry instances (and their consumers) write them; one small query per interval per open page.
/// </summary>
public static partial class ConsoleEvents
{
    public static ServerSentEventsResult<ConsoleChange> StreamAsync(IServiceScopeFactory scopes, IOptions<ConsoleOptions> options, ILoggerFactory logs, CancellationToken ct) =>
        TypedResults.ServerSentEvents(ChangesAsync(scopes, TimeSpan.FromMilliseconds(options.Value.PollMilliseconds), logs.CreateLogger(typeof(ConsoleEvents)), ct), "change");

    private static async IAsyncEnumerable<ConsoleChange> ChangesAsync(IServiceScopeFactory scopes, TimeSpan interval, ILogger log, [EnumeratorCancellation] CancellationToken ct)
    {
        ConsoleChange? last = null;
        using var timer = new PeriodicTimer(interval);
        do
        {
            ConsoleChange? now = null;
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                now = await SnapshotAsync(scope.ServiceProvider.GetRequiredService<RegistryDbContext>(), ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A database hiccup must not end the page's stream: the next tick tries again.
                LogPollFailed(log, e);
            }

            if (now is not null && now != last)
            {
                last = now;
                yield return now;
            }
        }
        while (await WaitAsync(timer, ct));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            return await timer.WaitForNextTickAsync(ct);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    internal static async Task<ConsoleChange> SnapshotAsync(RegistryDbContext db, CancellationToken ct) => new(
        await db.Audit.MaxAsync(a => (long?)a.Id, ct) ?? 0,
        await db.Promotions.MaxAsync(p => (long?)p.Id, ct) ?? 0,
        await db.Promotions.CountAsync(p => p.EndedAt != null, ct),
        await db.Versions.CountAsync(ct),
        await db.Versions.CountAsync(v => v.Tainted, ct),
        await db.BatchEvents.MaxAsync(e => (long?)e.Id, ct) ?? 0,
        await db.ReplicaServing.MaxAsync(r => (DateTimeOffset?)r.UpdatedAt, ct));

    [LoggerMessage(Level = LogLevel.Warning, Message = "The console's change poll failed; retrying at the next tick")]
    private static partial void LogPollFailed(ILogger logger, Exception exception);
}

/// <summary>Where the Registry's record stands: the page reloads what it shows when any part moves.</summary>
public sealed record ConsoleChange(long Audit, long Promotions, int Ended, int Versions, int Tainted, long BatchEvents, DateTimeOffset? ReplicasUpdatedAt);
