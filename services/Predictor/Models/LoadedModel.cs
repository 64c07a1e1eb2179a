using Ctm.Onnx;
using Ctm.Predictor.Inference;

namespace Ctm.Predictor.Models;

/// <summary>Thrown when a model's batching queue is full: the caller answers 503 with Retry-After.</summary>
public sealed class ServingOverloadedException(string message) : Exception(message);

/// <summary>
/// A model version ready to answer, by lookup (static path) or through micro-batches (dynamic path). Requests hold a
/// lease while they run; a version that has been swapped out is released only when its last lease ends, so requests in
/// flight finish on the version they started with.
/// </summary>
public sealed class LoadedModel
{
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _leases = 1; // the catalog's own reference
    private long _requests;
    private long _rows;

    public LoadedModel(LoadedModelInfo info, OnnxSession session, ModelSignature signature, StaticTable? table, MicroBatcher? batcher, HotKeyCache cache)
    {
        Info = info;
        Session = session;
        Signature = signature;
        Table = table;
        Batcher = batcher;
        Cache = cache;
        VersionText = info.Version.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    public LoadedModelInfo Info { get; }
    public string Dataset => Info.Dataset;
    public int Version => Info.Version;
    public long Generation => Info.Generation;
    public string Sha256 => Info.Sha256;
    public string VersionText { get; }
    public OnnxSession Session { get; }
    public ModelSignature Signature { get; }
    public StaticTable? Table { get; }
    public MicroBatcher? Batcher { get; }
    public HotKeyCache Cache { get; }
    /// <summary>When it was swapped in as the primary (or created, for a canary or shadow).</summary>
    public DateTimeOffset LoadedAt { get; internal set; } = DateTimeOffset.UtcNow;
    public string Path => Table is null ? "dynamic" : "static";
    public long Requests => Interlocked.Read(ref _requests);
    public long RowsServed => Interlocked.Read(ref _rows);

    /// <summary>Completes when the session has been released.</summary>
    public Task Released => _released.Task;

    /// <summary>Predictions for every row of <paramref name="block"/>, in order.</summary>
    /// <exception cref="ServingOverloadedException">The batching queue is full.</exception>
    public ValueTask<Prediction[]> PredictAsync(RowBlock block)
    {
        Interlocked.Increment(ref _requests);
        Interlocked.Add(ref _rows, block.Count);
        var results = new Prediction[block.Count];
        if (Table is { } table)
        {
            for (var r = 0; r < results.Length; r++)
            {
                results[r] = table.Lookup(block, r);
            }

            return ValueTask.FromResult(results);
        }

        if (!Cache.Enabled)
        {
            return RunAsync(new WorkItem(block, null), results, null);
        }

        string[]? keys = null;
        List<int>? misses = null;
        for (var r = 0; r < results.Length; r++)
        {
            var key = block.CanonicalKey(r);
            if (!Cache.TryGet(key, out results[r]))
            {
                keys ??= new string[results.Length];
                keys[r] = key;
                (misses ??= []).Add(r);
            }
        }

        return misses is null
            ? ValueTask.FromResult(results)
            : RunAsync(new WorkItem(block, misses.Count == results.Length ? null : [.. misses]), results, keys);
    }

    private async ValueTask<Prediction[]> RunAsync(WorkItem item, Prediction[] results, string[]? keys)
    {
        if (!Batcher!.TryEnqueue(item))
        {
            throw new ServingOverloadedException($"the queue of {Dataset} v{Version} is full");
        }

        await item.Task.ConfigureAwait(false);
        for (var i = 0; i < item.Count; i++)
        {
            var r = item.RowAt(i);
            results[r] = item.Results[i];
            if (keys is not null)
            {
                Cache.Add(keys[r], item.Results[i]);
            }
        }

        return results;
    }

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
        if (Interlocked.Decrement(ref _leases) == 0)
        {
            _ = DisposeAsync();
        }
    }

    private async Task DisposeAsync()
    {
        try
        {
            if (Batcher is not null)
            {
                await Batcher.StopAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            Session.Dispose();
            _released.TrySetResult();
        }
    }
}

/// <summary>Where a loaded version came from.</summary>
public sealed record LoadedModelInfo(string Dataset, int Version, long Generation, string Sha256, string ArtifactLocation, IReadOnlyDictionary<string, string>? InputMapping = null);
