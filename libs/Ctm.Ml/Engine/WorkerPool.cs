using System.Diagnostics;

namespace Ctm.Ml.Engine;

/// <summary>
/// Threads that share short jobs of independent work items, thousands of jobs a second. Items are claimed
/// dynamically, so the caller takes whatever a helper has not started. Helpers spin briefly (yielding) before
/// sleeping, since waking a pooled thread per job would cost more than the job.
/// </summary>
/// <remarks>
/// On shared cores a helper can cost more than it brings (descheduled while holding an item, or spinning on the
/// core the caller needs). The pool therefore times jobs run in parallel against jobs the caller runs alone, and
/// keeps the faster way for a stretch that doubles while the same way keeps winning. Results never depend on it:
/// an item computes the same thing on whichever thread runs it.
/// </remarks>
internal sealed class WorkerPool : IDisposable
{
    private const int ProbeJobs = 24;
    private const int MinStretch = 512;
    private const int MaxStretch = 1 << 15;
    private static readonly long SpinTicks = Stopwatch.Frequency / 10_000; // 100 µs

    private readonly Thread[] _threads;
    private readonly object _lock = new();
    private Job? _job;
    private volatile bool _stop;

    // Probe state: ProbeJobs parallel, then ProbeJobs alone, then a stretch of the faster.
    private int _phaseJobs;
    private long _parallelTicks, _soloTicks;
    private bool? _lastWinner;
    private int _stretch = MinStretch;
    private Mode _mode = Mode.ProbeParallel;

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

    private enum Mode
    {
        ProbeParallel,
        ProbeSolo,
        Parallel,
        Solo,
    }

    public int Count { get; }

    /// <summary>Runs <paramref name="work"/>(item) for every item in [0, items), in parallel, and waits for all.</summary>
    public void Run(int items, Action<int> work)
    {
        if (Count == 1 || items == 1)
        {
            RunAlone(items, work);
            return;
        }

        var start = Stopwatch.GetTimestamp();
        var parallel = _mode is Mode.ProbeParallel or Mode.Parallel;
        if (parallel)
        {
            RunParallel(items, work);
        }
        else
        {
            RunAlone(items, work);
        }

        var ticks = Stopwatch.GetTimestamp() - start;
        Choose(ticks);
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

    private static void RunAlone(int items, Action<int> work)
    {
        for (var i = 0; i < items; i++)
        {
            work(i);
        }
    }

    private void RunParallel(int items, Action<int> work)
    {
        var job = new Job(work, items);
        Volatile.Write(ref _job, job);
        lock (_lock)
        {
            Monitor.PulseAll(_lock);
        }

        job.Execute();
        var spin = new SpinWait();
        while (Volatile.Read(ref job.Done) < items)
        {
            spin.SpinOnce(sleep1Threshold: -1);
        }

        if (job.Error is { } error)
        {
            throw new AggregateException(error);
        }
    }

    private void Choose(long ticks)
    {
        _phaseJobs++;
        switch (_mode)
        {
            case Mode.ProbeParallel:
                _parallelTicks += ticks;
                if (_phaseJobs == ProbeJobs)
                {
                    (_mode, _phaseJobs) = (Mode.ProbeSolo, 0);
                }

                break;
            case Mode.ProbeSolo:
                _soloTicks += ticks;
                if (_phaseJobs == ProbeJobs)
                {
                    var parallelWins = _parallelTicks < _soloTicks;
                    _stretch = _lastWinner == parallelWins ? Math.Min(_stretch * 2, MaxStretch) : MinStretch;
                    _lastWinner = parallelWins;
                    (_mode, _phaseJobs, _parallelTicks, _soloTicks) = (parallelWins ? Mode.Parallel : Mode.Solo, 0, 0, 0);
                }

                break;
            default:
                if (_phaseJobs >= _stretch)
                {
                    (_mode, _phaseJobs) = (Mode.ProbeParallel, 0);
                }

                break;
        }

    }

    private void Loop()
    {
        Job? seen = null;
        while (!_stop)
        {
            // Spin (yielding to whatever else wants this core) for a short while, then sleep until the next job.
            var spin = new SpinWait();
            var until = Stopwatch.GetTimestamp() + SpinTicks;
            while (ReferenceEquals(Volatile.Read(ref _job), seen) && !_stop && Stopwatch.GetTimestamp() < until)
            {
                spin.SpinOnce(sleep1Threshold: -1);
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
