using System.Collections.Concurrent;

namespace Ctm.Predictor.Inference;

/// <summary>
/// A bounded cache of one version's predictions keyed by the canonical input (so the key is (version, input)). Two
/// generations approximate LRU at O(1): entries go to the young one; when it is half the capacity, the old one is dropped
/// and the young one becomes old; a hit in the old one moves the entry back to the young one.
/// </summary>
public sealed class HotKeyCache(int capacity)
{
    private readonly Lock _rotate = new();
    private ConcurrentDictionary<string, Prediction> _young = new(StringComparer.Ordinal);
    private ConcurrentDictionary<string, Prediction> _old = new(StringComparer.Ordinal);
    private int _youngCount;
    private long _hits;
    private long _misses;

    public bool Enabled => capacity > 0;
    public int Capacity => capacity;
    public long Hits => Interlocked.Read(ref _hits);
    public long Misses => Interlocked.Read(ref _misses);
    public int Count => _young.Count + _old.Count;

    public bool TryGet(string key, out Prediction prediction)
    {
        if (_young.TryGetValue(key, out prediction!))
        {
            Interlocked.Increment(ref _hits);
            return true;
        }

        if (_old.TryGetValue(key, out prediction!))
        {
            Interlocked.Increment(ref _hits);
            Add(key, prediction);
            return true;
        }

        Interlocked.Increment(ref _misses);
        return false;
    }

    public void Add(string key, Prediction prediction)
    {
        if (capacity <= 0)
        {
            return;
        }

        if (Volatile.Read(ref _youngCount) >= Math.Max(1, capacity / 2))
        {
            lock (_rotate)
            {
                if (_youngCount >= Math.Max(1, capacity / 2))
                {
                    _old = _young;
                    _young = new ConcurrentDictionary<string, Prediction>(StringComparer.Ordinal);
                    _youngCount = 0;
                }
            }
        }

        if (_young.TryAdd(key, prediction))
        {
            Interlocked.Increment(ref _youngCount);
        }
    }
}
