using System.Diagnostics.CodeAnalysis;

namespace Ctm.ServiceDefaults.Storage;

/// <summary>
/// Wakes a background loop that waits for work (the outbox relay, the row batcher, the training worker) as soon as
/// there is some, so it need not poll. Signals coalesce: one wake-up covers everything signalled before it.
/// Each loop has its own subclass, so each is its own singleton.
/// </summary>
[SuppressMessage("Design", "CA1001", Justification = "A SemaphoreSlim whose wait handle is never read holds no unmanaged resource; disposing it at shutdown would only race the loop still waiting on it.")]
public abstract class WakeSignal
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    /// <summary>Asks the loop to look now.</summary>
    public void Notify()
    {
        try
        {
            _signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled: one wake-up covers every notification before it.
        }
    }

    /// <summary>Waits for a signal or the timeout; true when signalled.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => _signal.WaitAsync(timeout, ct);
}
