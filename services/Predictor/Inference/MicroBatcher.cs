using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Ctm.ServiceDefaults.Telemetry;

namespace Ctm.Predictor.Inference;

/// <summary>Micro-batching settings of one model.</summary>
public sealed record BatchingSettings(int MaxBatchSize, TimeSpan BatchTimeout, int BatchThreads, int QueueCapacity);

/// <summary>The Predictor's spans (activity source <c>Ctm.Predictor</c>).</summary>
public static class PredictorTelemetry
{
    public const string SourceName = CtmTelemetry.MeterPrefix + "Predictor";

    /// <summary>Name of the span of one micro-batch's ONNX Runtime call.</summary>
    public const string BatchActivity = "predictor.batch";

    public static readonly ActivitySource Source = new(SourceName);
}

/// <summary>
/// Server-side micro-batching: requests queue their rows (a bounded queue: a full queue refuses at once, never waits);
/// a batch takes what is queued, up to <see cref="BatchingSettings.MaxBatchSize"/> rows, and runs it as one call.
/// Without a batch timeout (the default) there are no batch threads: the request that finds a runner free (at most
/// <see cref="BatchingSettings.BatchThreads"/> at once) runs the batch itself, on its own thread, taking in every request
/// queued meanwhile; a request that finds every runner busy is taken in by the next batch. So an idle server adds no
/// thread hand-off to a request, and a busy one batches as before. When the runner's own request is answered and more
/// are queued, it hands the rest to the thread pool and goes back to its response. With a batch timeout, batch threads
/// wait up to <see cref="BatchingSettings.BatchTimeout"/> for more rows after the first. Each call is a span of
/// its own (<see cref="PredictorTelemetry.BatchActivity"/>) linked to the span of every request whose rows it ran, tagged
/// with the batch's size and the model's dataset and version: a request's trace leads to the batch that answered it.
/// </summary>
public sealed class MicroBatcher
{
    private readonly Channel<WorkItem> _queue;
    private readonly BatchExecutor _executor;
    private readonly BatchingSettings _settings;
    private readonly Task[] _workers;
    private readonly string _dataset;
    private readonly int _version;
    private readonly bool _inline;
    private readonly ConcurrentQueue<Runner> _runners = new();
    private long _batches;
    private long _rows;
    private long _rejected;

    public MicroBatcher(BatchExecutor executor, BatchingSettings settings, string dataset = "", int version = 0)
    {
        _executor = executor;
        _dataset = dataset;
        _version = version;
        _settings = settings;
        _queue = Channel.CreateBounded<WorkItem>(new BoundedChannelOptions(settings.QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = settings.BatchThreads == 1,
            SingleWriter = false,
        });
        _inline = settings.BatchTimeout <= TimeSpan.Zero;
        foreach (var _ in Enumerable.Range(0, _inline ? settings.BatchThreads : 0))
        {
            _runners.Enqueue(new Runner());
        }

        _workers = _inline ? [] : [.. Enumerable.Range(0, settings.BatchThreads).Select(_ => Task.Run(WorkAsync))];
    }

    public long Batches => Interlocked.Read(ref _batches);
    public long Rows => Interlocked.Read(ref _rows);
    public long Rejected => Interlocked.Read(ref _rejected);
    public int Queued => _queue.Reader.Count;

    /// <summary>
    /// Queues <paramref name="item"/>; false (and counted) when the queue is full. Without a batch timeout, the item may
    /// be answered before this returns (this thread ran its batch).
    /// </summary>
    public bool TryEnqueue(WorkItem item)
    {
        if (!_queue.Writer.TryWrite(item))
        {
            Interlocked.Increment(ref _rejected);
            return false;
        }

        if (_inline)
        {
            Drain(item);
        }

        return true;
    }

    /// <summary>Stops taking work; returns when the queued work is done.</summary>
    public async Task StopAsync()
    {
        _queue.Writer.TryComplete();
        await Task.WhenAll(_workers).ConfigureAwait(false);
        while (_inline && (_runners.Count < _settings.BatchThreads || _queue.Reader.Count > 0))
        {
            Drain(null);
            await Task.Delay(1).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs queued batches while a runner is free: until <paramref name="own"/> is answered (then the rest goes to the
    /// thread pool), or, for the thread pool's drain (<paramref name="own"/> null), until the queue is empty.
    /// </summary>
    private void Drain(WorkItem? own)
    {
        var reader = _queue.Reader;
        while (_runners.TryDequeue(out var runner))
        {
            var handOff = false;
            try
            {
                while (Take(reader, runner.Batch, 0, _settings.MaxBatchSize) is var rows && rows > 0)
                {
                    Run(runner.Batch, rows, runner.Scratch);
                    if (own is { Task.IsCompleted: true })
                    {
                        handOff = reader.Count > 0;
                        break;
                    }
                }
            }
            finally
            {
                _runners.Enqueue(runner);
            }

            if (handOff)
            {
                ThreadPool.UnsafeQueueUserWorkItem(static batcher => batcher.Drain(null), this, preferLocal: false);
                return;
            }

            // A request queued after the last Take may have found this runner busy: look again now that it is free.
            if (reader.Count == 0 || own is { Task.IsCompleted: true })
            {
                return;
            }
        }
    }

    /// <summary>The batch list and buffers of one runner (one batch at a time each).</summary>
    private sealed class Runner
    {
        public List<WorkItem> Batch { get; } = [];
        public BatchScratch Scratch { get; } = new();
    }

    private async Task WorkAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<WorkItem>();
        var scratch = new BatchScratch();
        var max = _settings.MaxBatchSize;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            var rows = Take(reader, batch, 0, max);
            if (rows > 0 && rows < max && _settings.BatchTimeout > TimeSpan.Zero)
            {
                var deadline = DateTime.UtcNow + _settings.BatchTimeout;
                while (rows < max)
                {
                    var remaining = deadline - DateTime.UtcNow;
                    if (remaining <= TimeSpan.Zero)
                    {
                        break;
                    }

                    var more = reader.WaitToReadAsync().AsTask();
                    if (await Task.WhenAny(more, Task.Delay(remaining)).ConfigureAwait(false) != more || !await more.ConfigureAwait(false))
                    {
                        break;
                    }

                    rows = Take(reader, batch, rows, max);
                }
            }

            if (batch.Count == 0)
            {
                continue;
            }

            Run(batch, rows, scratch);
        }
    }

    /// <summary>Runs one batch, answers its items (or fails them with the error) and clears the list.</summary>
    private void Run(List<WorkItem> batch, int rows, BatchScratch scratch)
    {
        // A batch serves several requests (several traces), so its span is a root of its own, linked to each of them; the
        // span current on this thread (a runner's own request) is put back afterwards.
        var current = Activity.Current;
        Activity.Current = null;
        var activity = StartBatchActivity(batch, rows);
        try
        {
            _executor.Execute(batch, scratch);
            Interlocked.Increment(ref _batches);
            Interlocked.Add(ref _rows, rows);
            foreach (var item in batch)
            {
                item.TrySetResult();
            }
        }
        catch (Exception e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            foreach (var item in batch)
            {
                item.TrySetException(e);
            }
        }
        finally
        {
            activity?.Dispose();
            Activity.Current = current;
            batch.Clear();
        }
    }

    private Activity? StartBatchActivity(List<WorkItem> batch, int rows)
    {
        if (!PredictorTelemetry.Source.HasListeners())
        {
            return null;
        }

        var links = new List<ActivityLink>(batch.Count);
        foreach (var item in batch)
        {
            if (item.RequestContext != default)
            {
                links.Add(new ActivityLink(item.RequestContext));
            }
        }

        var activity = PredictorTelemetry.Source.StartActivity(PredictorTelemetry.BatchActivity, ActivityKind.Internal, parentContext: default, links: links);
        activity?.SetTag("ctm.batch.rows", rows);
        activity?.SetTag("ctm.batch.requests", batch.Count);
        activity?.SetTag("ctm.dataset", _dataset);
        activity?.SetTag("ctm.model.version", _version);
        return activity;
    }

    private static int Take(ChannelReader<WorkItem> reader, List<WorkItem> batch, int rows, int max)
    {
        // A request larger than a batch runs alone; otherwise requests are never split.
        while (rows < max && reader.TryPeek(out var next) && (rows == 0 || rows + next.Count <= max) && reader.TryRead(out next))
        {
            batch.Add(next);
            rows += next.Count;
        }

        return rows;
    }
}
