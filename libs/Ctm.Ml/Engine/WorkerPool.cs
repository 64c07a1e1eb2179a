using System.Diagnostics;

namespace Ctm.Ml.Engine;

/// <summary>
/// Threads that share short jobs of independent work items, thousands of jobs a second. Items are claimed
/// dynamically, so the caller never waits for a helper the OS has not scheduled (the cores here are shared):
/// it takes the unclaimed items itself. Helpers spin briefly before sleeping, since waking a pooled thread per
/// job would cost more than the job.
/// </summary>
internal sealed class WorkerPool : IDisposable
{
    private readonly Thread[] _threads;
    private readonly object _lock = new();
    private Job? _job;
    private const int SlowJobsBeforeSolo = 4;
    private const int MinSoloJobs = 256;
    private const int MaxSoloJobs = 1 << 16;
    private volatile bool _stop;
    private int _slowJobs;
    private int _fastJobs;
    private int _soloLength = MinSoloJobs;
    private int _soloJobs;

    public WorkerPool(int count)
    {
        Count = Math.Max(1, count);
        _threads = new Thread[Count - 1];
        for (var i = 0; i < _threads.Length; i++)
        {
            _threads[i] = new Thread(Loop) { IsBackground = true, Name = $"ctm-train-{i + 1}" };
            _threads[i].Start();
        }
    }

    public int Count { get; }

    /// <summary>Runs <paramref name="work"/>(item) for every item in [0, items), in parallel, and waits for all.</summary>
    public void Run(int items, Action<int> work)
    {
        if (Count == 1 || items == 1)
        {
            for (var i = 0; i < items; i++)
            {
                work(i);
            }

            return;
        }

        if (_soloJobs > 0)
        {
            _soloJobs--;
            for (var i = 0; i < items; i++)
            {
                work(i);
            }

            return;
        }

        var job = new Job(work, items);
        var start = Stopwatch.GetTimestamp();
        Volatile.Write(ref _job, job);
        lock (_lock)
        {
            Monitor.PulseAll(_lock);
        }

        job.Execute();
        var own = Stopwatch.GetTimestamp();
        var spin = new SpinWait();
        while (Volatile.Read(ref job.Done) < items)
        {
            spin.SpinOnce(sleep1Threshold: -1);
        }

        // On an oversubscribed machine a helper is often descheduled holding an item, and waiting for it costs more
        // than doing everything here. Results do not depend on who computes an item, so fall back to one thread
        // for a while, then try again.
        // The solo stretch doubles each time parallel turns out slow again, and shrinks back while it pays.
        var waited = Stopwatch.GetTimestamp() - own;
        if (waited > (own - start) / 2)
        {
            if (++_slowJobs >= SlowJobsBeforeSolo)
            {
                (_slowJobs, _fastJobs, _soloJobs) = (0, 0, _soloLength);
                _soloLength = Math.Min(_soloLength * 2, MaxSoloJobs);
            }
        }
        else
        {
            _slowJobs = Math.Max(0, _slowJobs - 1);
            if (++_fastJobs >= 256)
            {
                _fastJobs = 0;
                _soloLength = Math.Max(_soloLength / 2, MinSoloJobs);
            }
        }

        if (job.Error is { } error)
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

    private void Loop()
    {
        Job? seen = null;
        while (!_stop)
        {
            for (var spins = 0; ReferenceEquals(Volatile.Read(ref _job), seen) && !_stop && spins < 4000; spins++)
            {
                Thread.SpinWait(20);
            }

            lock (_lock)
            {
                while (ReferenceEquals(_job, seen) && !_stop)
                {
                    Monitor.Wait(_lock);
                }
            }

            seen = Volatile.Read(ref _job);
            seen?.Execute();
        }
    }

    private sealed class Job(Action<int> work, int items)
    {
        public int Next;
        public int Done;
        public Exception? Error;

        public void Execute()
        {
            int item;
            while ((item = Interlocked.Increment(ref Next) - 1) < items)
            {
                try
                {
                    work(item);
                }
                catch (Exception e)
                {
                    Error ??= e;
                }
                finally
                {
                    Interlocked.Increment(ref Done);
                }
            }
        }
    }
}
