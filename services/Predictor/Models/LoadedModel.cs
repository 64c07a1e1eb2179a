using Ctm.Onnx;
using Ctm.Predictor.Inference;

namespace Ctm.Predictor.Models;

/// <summary>
/// A model version ready to answer, by lookup (static path) or through micro-batches (dynamic path). Its owner (the
/// catalog once it is installed, the loader before) holds one reference and requests hold a <see cref="ModelLease"/>
/// each while they run; a version that has been swapped out is released only when its last reference ends, so requests
/// in flight finish on the version they started with.
/// </summary>
public sealed class LoadedModel
{
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _leases = 1; // the catalog's own reference
    private long _requests;
    private long _rows;

    public LoadedModel(LoadedModelInfo info, OnnxSession session, ModelSignature? signature, StaticTable? table, MicroBatcher? batcher, HotKeyCache cache)
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
    /// <summary>
    /// The row interface (one row per instance, rows merged into micro-batches), or null for a model whose inputs or
    /// outputs do not share a symbolic first dimension: it takes whole tensors only (<see cref="RunTensors"/>).
    /// </summary>
    public ModelSignature? Signature { get; }

    /// <summary>Why the model has no row interface (null when it has one).</summary>
    public string? TensorsOnlyReason { get; init; }
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

    /// <summary>
    /// Runs the model once on the request's own tensors (no micro-batching, no cache: the tensors are exactly what the
    /// client sent) and returns the outputs asked for, or every tensor output.
    /// </summary>
    /// <exception cref="PredictionInputException">The tensors do not fit the model (names, types, ranks, fixed
    /// dimensions), or ONNX Runtime refused them while running (its message): the caller answers 400.</exception>
    /// <exception cref="ServingFaultException">ONNX Runtime failed for another reason: the caller answers 500.</exception>
    public IReadOnlyList<OrtTensor> RunTensors(IReadOnlyDictionary<string, OrtTensor> inputs, IReadOnlyList<string>? outputs)
    {
        Interlocked.Increment(ref _requests);
        Interlocked.Add(ref _rows, inputs.Values.Select(t => t.Shape.Length == 0 ? 1 : t.Shape[0]).DefaultIfEmpty(1).Max());
        try
        {
            return Session.Run(inputs, outputs);
        }
        catch (ArgumentException e)
        {
            throw new PredictionInputException(e.Message);
        }
        catch (NotSupportedException e)
        {
            throw new PredictionInputException(e.Message);
        }
        catch (OnnxRuntimeException e) when (IsRequestError(e))
        {
            throw new PredictionInputException($"ONNX Runtime cannot run {Dataset} v{Version} on these inputs: {e.Message}");
        }
        catch (OnnxRuntimeException e)
        {
            throw new ServingFaultException($"ONNX Runtime failed running {Dataset} v{Version}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Whether ONNX Runtime's error is about the request: an invalid argument (2), or a kernel that failed on these
    /// inputs (ORT reports those as FAIL, 1, or RUNTIME_EXCEPTION, 6): the model ran its warm-up on inputs of its
    /// declared shapes when it loaded, so what differs now is the input. Engine, provider, graph and not-implemented
    /// errors are faults (500).
    /// </summary>
    public static bool IsRequestError(OnnxRuntimeException e) => e.ErrorCode is 1 or 2 or 6;

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

        try
        {
            await item.Task.ConfigureAwait(false);
        }
        catch (OnnxRuntimeException e) when (IsRequestError(e))
        {
            throw new PredictionInputException($"ONNX Runtime cannot run {Dataset} v{Version} on these rows: {e.Message}");
        }
        catch (Exception e) when (e is OnnxRuntimeException or ArgumentException or InvalidOperationException or NotSupportedException)
        {
            throw new ServingFaultException($"ONNX Runtime failed running {Dataset} v{Version}: {e.Message}", e);
        }

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

    /// <summary>Adds a reference for a lease; false if the model is already retired and released.</summary>
    internal bool TryAddReference()
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

    /// <summary>
    /// Ends one reference: a lease's (<see cref="ModelLease.Dispose"/>), or the owner's when it retires the version (a
    /// swap, or a built version that was not installed). The last one stops the micro-batcher and disposes the session.
    /// </summary>
    internal void DropReference()
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
