using MassTransit.Testing;

namespace Ctm.Testing.InProcess;

/// <summary>
/// Waits on what the harness saw. Each polls the harness's lists until a match or <see cref="Patience"/>; on timeout it
/// fails naming what was awaited and what the bus did carry, so a failure reads as a story rather than "false".
/// </summary>
/// <remarks>
/// Every read of the harness's lists passes <see cref="SnapshotOnly"/>, an already cancelled token, so that it returns
/// what the list holds now. Without it, MassTransit's synchronous <c>Select</c> blocks for the harness's timeout waiting
/// for more, and it deadlocks when the harness's inactivity signal fires while it waits: it disposes its cancellation
/// registration while holding the list's lock, and the registered callback needs that lock (seen in CI: a fast test hung
/// until the run's hang timeout). Polling here does the waiting instead.
/// </remarks>
public static class HarnessExtensions
{
    /// <summary>Long enough for a slow shared machine; a passing test never waits for it.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static readonly CancellationToken SnapshotOnly = new(canceled: true);

    /// <summary>The consumption of the first <typeparamref name="T"/> that <paramref name="match"/> accepts, once its consumer has returned or thrown.</summary>
    public static async Task<IReceivedMessage<T>> ConsumedAsync<T>(this ITestHarness harness, Func<T, bool> match)
        where T : class => (await ConsumedAsync(harness, match, 1))[0];

    /// <summary>The first <paramref name="count"/> consumptions of a <typeparamref name="T"/> that <paramref name="match"/> accepts.</summary>
    public static async Task<IReadOnlyList<IReceivedMessage<T>>> ConsumedAsync<T>(this ITestHarness harness, Func<T, bool> match, int count)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(harness);
        return await UntilAsync(
            () => harness.Consumed.Select<T>(m => match(m.Context.Message), SnapshotOnly).Take(count).ToList() is { } list && list.Count == count ? list : null,
            $"{count} consumed {typeof(T).Name}",
            harness);
    }

    /// <summary>The first published <typeparamref name="T"/> that <paramref name="match"/> accepts.</summary>
    public static async Task<T> PublishedAsync<T>(this ITestHarness harness, Func<T, bool> match)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(harness);
        var published = await UntilAsync(() => harness.Published.Select<T>(m => match(m.Context.Message), SnapshotOnly).FirstOrDefault(), $"a published {typeof(T).Name}", harness);
        return published.Context.Message;
    }

    /// <summary>Every <typeparamref name="T"/> published so far that <paramref name="match"/> accepts.</summary>
    public static IReadOnlyList<T> PublishedSoFar<T>(this ITestHarness harness, Func<T, bool> match)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(harness);
        return harness.Published.Select<T>(m => match(m.Context.Message), SnapshotOnly).Select(m => m.Context.Message).ToList();
    }

    /// <summary>The message types published so far, for failure messages.</summary>
    public static string Describe(this ITestHarness harness)
    {
        ArgumentNullException.ThrowIfNull(harness);
        var published = harness.Published.Select(_ => true, SnapshotOnly).Select(m => m.MessageType.Name).GroupBy(n => n).Select(g => $"{g.Key} x{g.Count()}");
        var consumed = harness.Consumed.Select(_ => true, SnapshotOnly).Select(m => m.MessageType.Name + (m.Exception is null ? "" : $" (threw {m.Exception.GetType().Name}: {m.Exception.Message})"));
        return $"published: [{string.Join(", ", published)}]; consumed: [{string.Join(", ", consumed)}]";
    }

    /// <summary>Polls <paramref name="condition"/> (a database fact, an HTTP answer) until it holds, or fails naming <paramref name="what"/>.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        ArgumentNullException.ThrowIfNull(condition);
        await EventuallyAsync(async () => await condition() ? what : null, what);
    }

    /// <summary>Polls <paramref name="probe"/> until it returns a value, or fails naming <paramref name="what"/>.</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T?>> probe, string what, ITestHarness? harness = null)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(probe);
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            if (await probe() is { } value)
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Waited {Patience.TotalSeconds:0} s for {what}; {harness?.Describe() ?? "nothing seen"}");
            }

            await Task.Delay(20);
        }
    }

    private static Task<T> UntilAsync<T>(Func<T?> probe, string what, ITestHarness harness)
        where T : class => EventuallyAsync(() => Task.FromResult(probe()), what, harness);
}
