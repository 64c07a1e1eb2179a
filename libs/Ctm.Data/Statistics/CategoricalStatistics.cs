using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json.Serialization;

namespace Ctm.Data.Statistics;

/// <summary>
/// Statistics of the text values of one column in bounded memory, mergeable. Value counts are exact while
/// the column has at most <see cref="Capacity"/> distinct values; beyond that they become a Misra–Gries
/// summary (each kept count underestimates the truth by at most <see cref="MaxUndercount"/> ≤ n/(Capacity+1))
/// and the distinct count becomes a <see cref="HyperLogLog"/> estimate.
/// </summary>
public sealed class CategoricalStatistics
{
    /// <summary>Default number of values whose counts are kept.</summary>
    public const int DefaultCapacity = 1000;

    private Dictionary<string, long> _counts;
    private Dictionary<string, long>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    /// <summary>Creates empty statistics keeping at most <paramref name="capacity"/> value counts.</summary>
    public CategoricalStatistics(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _counts = new Dictionary<string, long>(StringComparer.Ordinal);
        _lookup = _counts.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>Restores statistics from their serialized state.</summary>
    [JsonConstructor]
    public CategoricalStatistics(int capacity, long count, Dictionary<string, long>? counts, long maxUndercount, HyperLogLog? distinctSketch)
        : this(capacity)
    {
        Count = count;
        MaxUndercount = maxUndercount;
        DistinctSketch = distinctSketch;
        foreach (var (k, v) in counts ?? [])
        {
            _counts[k] = v;
        }
    }

    /// <summary>The most value counts kept.</summary>
    public int Capacity { get; }

    /// <summary>Non-missing values seen.</summary>
    public long Count { get; private set; }

    /// <summary>Kept value counts (all values while <see cref="IsExact"/>).</summary>
    public Dictionary<string, long> Counts => _counts;

    /// <summary>How much any kept count may fall short of the truth (0 while exact).</summary>
    public long MaxUndercount { get; private set; }

    /// <summary>The distinct-count estimator, present once the column overflowed <see cref="Capacity"/>.</summary>
    public HyperLogLog? DistinctSketch { get; private set; }

    /// <summary>True while every value and count is known exactly.</summary>
    [JsonIgnore]
    public bool IsExact => DistinctSketch is null;

    /// <summary>Number of distinct values: exact while <see cref="IsExact"/>, else a HyperLogLog estimate.</summary>
    [JsonIgnore]
    public long DistinctCount => DistinctSketch is null ? _counts.Count : Math.Max(DistinctSketch.Estimate(), _counts.Count);

    /// <summary>Counts one value.</summary>
    public void Add(ReadOnlySpan<char> value)
    {
        Count++;
        if (DistinctSketch is null)
        {
            if (_counts.Count < Capacity)
            {
                CollectionsMarshal.GetValueRefOrAddDefault(_lookup, value, out _)++;
                return;
            }

            ref var known = ref CollectionsMarshal.GetValueRefOrNullRef(_lookup, value);
            if (!Unsafe.IsNullRef(ref known))
            {
                known++;
                return;
            }

            Overflow();
        }

        DistinctSketch!.Add(value);
        ref var c = ref CollectionsMarshal.GetValueRefOrNullRef(_lookup, value);
        if (!Unsafe.IsNullRef(ref c))
        {
            c++;
        }
        else if (_counts.Count < Capacity)
        {
            _lookup[value] = 1;
        }
        else
        {
            // Misra–Gries: a new value when all counters are taken decrements every counter by one.
            MaxUndercount++;
            DecrementAll(1);
        }
    }

    /// <summary>
    /// Counts <paramref name="value"/> <paramref name="count"/> times: the same as that many <see cref="Add"/> calls
    /// while the counts are exact and the value fits; otherwise it falls back to them.
    /// </summary>
    internal void AddCount(string value, long count)
    {
        if (DistinctSketch is null && (_counts.Count < Capacity || _counts.ContainsKey(value)))
        {
            Count += count;
            CollectionsMarshal.GetValueRefOrAddDefault(_counts, value, out _) += count;
            return;
        }

        for (long i = 0; i < count; i++)
        {
            Add(value);
        }
    }

    /// <summary>Adds the values summarized by <paramref name="other"/>.</summary>
    public void Merge(CategoricalStatistics other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Count += other.Count;
        MaxUndercount += other.MaxUndercount;
        foreach (var (k, v) in other._counts)
        {
            CollectionsMarshal.GetValueRefOrAddDefault(_counts, k, out _) += v;
        }

        if (other.DistinctSketch is not null || _counts.Count > Capacity)
        {
            Overflow();
            if (other.DistinctSketch is not null)
            {
                DistinctSketch!.Merge(other.DistinctSketch);
            }
            else
            {
                foreach (var k in other._counts.Keys)
                {
                    DistinctSketch!.Add(k);
                }
            }
        }

        if (_counts.Count > Capacity)
        {
            // Mergeable Misra–Gries (Agarwal et al.): subtract the (Capacity+1)-th largest count.
            var cut = _counts.Values.OrderByDescending(c => c).ElementAt(Capacity);
            MaxUndercount += cut;
            DecrementAll(cut);
        }
    }

    /// <summary>A deep copy.</summary>
    public CategoricalStatistics Clone() => new(Capacity, Count, _counts, MaxUndercount, DistinctSketch?.Clone());

    /// <summary>The count of <paramref name="value"/> (a lower bound when not exact).</summary>
    public long CountOf(string value) => _counts.GetValueOrDefault(value);

    /// <summary>The most frequent values, most frequent first (ties by ordinal order).</summary>
    public IReadOnlyList<KeyValuePair<string, long>> Top(int n) =>
        [.. _counts.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).Take(n)];

    private void Overflow()
    {
        if (DistinctSketch is not null)
        {
            return;
        }

        DistinctSketch = new HyperLogLog();
        foreach (var k in _counts.Keys)
        {
            DistinctSketch.Add(k);
        }
    }

    private void DecrementAll(long amount)
    {
        List<string>? dead = null;
        foreach (var key in _counts.Keys)
        {
            ref var c = ref CollectionsMarshal.GetValueRefOrNullRef(_counts, key);
            c -= amount;
            if (c <= 0)
            {
                (dead ??= []).Add(key);
            }
        }

        foreach (var key in dead ?? [])
        {
            _counts.Remove(key);
        }
    }
}
