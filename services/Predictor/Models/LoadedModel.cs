using Ctm.Onnx;

namespace Ctm.Predictor.Models;

/// <summary>
/// A model version ready to answer. Requests hold a lease while they run; a version that has been swapped out
/// is disposed only when its last lease ends, so requests in flight finish on the version they started with.
/// </summary>
public sealed class LoadedModel(string dataset, int version, long generation, string sha256, OnnxSession session)
{
    private int _leases = 1; // the catalog's own reference
    private int _disposed;

    public string Dataset { get; } = dataset;
    public int Version { get; } = version;
    public long Generation { get; } = generation;
    public string Sha256 { get; } = sha256;
    public OnnxSession Session { get; } = session;
    public DateTimeOffset LoadedAt { get; } = DateTimeOffset.UtcNow;

    /// <summary>Takes a lease; false if the model is already retired and released.</summary>
    public bool TryAcquire()
    {
        while (true)
        {
            var current = Volatile.Read(ref _leases);
            if (current == 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _leases, current + 1, current) == current)
            {
                return true;
            }
        }
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _leases) == 0 && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Session.Dispose();
        }
    }
}
