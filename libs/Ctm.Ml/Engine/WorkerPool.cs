namespace Ctm.Ml.Engine;

/// <summary>
/// A fixed set of threads that run one short step together, many thousand times a second. Steps are tens of
/// microseconds, so workers spin briefly before sleeping: waking a pooled thread per step would cost more than the step.
/// </summary>
internal sealed class WorkerPool : IDisposable
{
    private readonly Thread[] _threads;
    private readonly object _lock = new();
    private Action<int>? _work;
    private int _generation;
    private int _pending;
    private volatile bool _stop;
    private Exception? _error;

    public WorkerPool(int count)
    {
        Count = Math.Max(1, count);
        _threads = new Thread[Count - 1];
        for (var i = 0; i < _threads.Length; i++)
        {
            var index = i + 1;
            _threads[i] = new Thread(() => Loop(index)) { IsBackground = true, Name = $"ctm-train-{index}" };
            _threads[i].Start();
        }
    }

    public int Count { get; }

    /// <summary>Runs <paramref name="work"/>(0..Count-1) in parallel, the caller taking index 0, and waits for all.</summary>
    public void Run(Action<int> work)
    {
        if (Count == 1)
        {
            work(0);
            return;
        }

        _work = work;
        _error = null;
        Volatile.Write(ref _pending, Count - 1);
        lock (_lock)
        {
            _generation++;
            Monitor.PulseAll(_lock);
        }

        try
        {
            work(0);
        }
        finally
        {
            var spin = new SpinWait();
            while (Volatile.Read(ref _pending) != 0)
            {
                spin.SpinOnce(sleep1Threshold: -1);
            }
        }

        if (_error is { } error)
        {
            throw new AggregateException(error);
        }
    }

    public void Dispose()
    {
        _stop = true;
        lock (_lock)
        {
            Monitor.PulseAll(_lock);
        }

        foreach (var t in _threads)
        {
            t.Join();
        }
    }

    private void Loop(int index)
    {
        var seen = 0;
        while (true)
        {
            for (var spins = 0; Volatile.Read(ref _generation) == seen && !_stop && spins < 4000; spins++)
            {
                Thread.SpinWait(20);
            }

            lock (_lock)
            {
                while (_generation == seen && !_stop)
                {
                    Monitor.Wait(_lock);
                }

                seen = _generation;
            }

            if (_stop)
            {
                return;
            }

            try
            {
                _work!(index);
            }
            catch (Exception e)
            {
                _error = e;
            }
            finally
            {
                Interlocked.Decrement(ref _pending);
            }
        }
    }
}
