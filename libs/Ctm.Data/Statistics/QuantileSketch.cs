using System.Text.Json.Serialization;

namespace Ctm.Data.Statistics;

/// <summary>
/// A mergeable quantile sketch with relative-value error (the DDSketch idea): every finite value falls in
/// a logarithmic bucket <c>(γ^(i-1), γ^i]</c> of its magnitude, with γ = 2^(1/35) ≈ 1.0200, so α = (γ−1)/(γ+1) ≤ <see cref="RelativeAccuracy"/>.
/// The bucket of a value is read from its IEEE-754 exponent and mantissa bits (no logarithm per value).
/// Guarantee: for any q, <see cref="Quantile"/> returns a value within α·|x| of x, the value of rank
/// ⌊q·(n−1)⌋ in the data, as long as no buckets were collapsed (more than <see cref="MaxBucketsPerSign"/>
/// distinct magnitudes, a dynamic range beyond about 10^35). Magnitudes below <see cref="MinIndexable"/> count as zero.
/// Because the buckets are fixed for all sketches, merging is exact (a merged sketch equals the sketch of the
/// concatenated data) and bucket counts give exact counts on shared bins, which the drift tests rely on.
/// </summary>
public sealed class QuantileSketch
{
    /// <summary>The relative accuracy α of returned quantiles.</summary>
    public const double RelativeAccuracy = 0.01;

    /// <summary>Magnitudes below this are counted in the zero bucket.</summary>
    public const double MinIndexable = 1e-9;

    /// <summary>The most buckets kept per sign before the smallest magnitudes are collapsed together.</summary>
    public const int MaxBucketsPerSign = 4096;

    // Keeps bucket keys positive for positive values down to MinIndexable (index ≈ −1047).
    private const long KeyBias = 2048;

    // 35 buckets per power of two: γ = 2^(1/35) gives α ≈ 0.0099, and the index splits into exponent and mantissa parts.
    private const int BucketsPerOctave = 35;
    private const int LookupBits = 12;
    private static readonly double Gamma = Math.Pow(2, 1.0 / BucketsPerOctave);

    // Mantissa bits above which the sub-bucket within an octave increments: 1 + M/2^52 = 2^(k/35).
    private static readonly long[] Boundaries = CreateBoundaries();

    // For each of the 2^12 mantissa cells, how many boundaries lie below the cell; a cell (0.02% wide) holds at most one.
    private static readonly byte[] BoundariesBelowCell = CreateLookup();

    private readonly BucketArray _positive;
    private readonly BucketArray _negative;

    /// <summary>Creates an empty sketch.</summary>
    public QuantileSketch()
    {
        _positive = new BucketArray();
        _negative = new BucketArray();
    }

    /// <summary>Restores a sketch from its serialized state.</summary>
    [JsonConstructor]
    public QuantileSketch(int positiveOffset, long[]? positiveCounts, int negativeOffset, long[]? negativeCounts, long zeroCount)
    {
        _positive = new BucketArray(positiveOffset, positiveCounts ?? []);
        _negative = new BucketArray(negativeOffset, negativeCounts ?? []);
        ZeroCount = zeroCount;
        Count = _positive.Total + _negative.Total + zeroCount;
    }

    /// <summary>Number of values added.</summary>
    [JsonIgnore]
    public long Count { get; private set; }

    /// <summary>Values whose magnitude is below <see cref="MinIndexable"/>.</summary>
    public long ZeroCount { get; private set; }

    /// <summary>Bucket index of <see cref="PositiveCounts"/>[0].</summary>
    public int PositiveOffset => _positive.TrimmedOffset;

    /// <summary>Counts of positive values per bucket, from <see cref="PositiveOffset"/> up.</summary>
    public long[] PositiveCounts => _positive.Trimmed();

    /// <summary>Bucket index (of the magnitude) of <see cref="NegativeCounts"/>[0].</summary>
    public int NegativeOffset => _negative.TrimmedOffset;

    /// <summary>Counts of negative values per magnitude bucket, from <see cref="NegativeOffset"/> up.</summary>
    public long[] NegativeCounts => _negative.Trimmed();

    /// <summary>Adds a finite value (callers filter NaN and infinities).</summary>
    public void Add(double value)
    {
        if (value > MinIndexable)
        {
            _positive.Increment(IndexOf(value));
        }
        else if (value < -MinIndexable)
        {
            _negative.Increment(IndexOf(-value));
        }
        else
        {
            ZeroCount++;
        }

        Count++;
    }

    /// <summary>Adds every bucket of <paramref name="other"/> to this sketch.</summary>
    public void Merge(QuantileSketch other)
    {
        ArgumentNullException.ThrowIfNull(other);
        _positive.AddAll(other._positive);
        _negative.AddAll(other._negative);
        ZeroCount += other.ZeroCount;
        Count += other.Count;
    }

    /// <summary>A deep copy.</summary>
    public QuantileSketch Clone() => new(PositiveOffset, PositiveCounts, NegativeOffset, NegativeCounts, ZeroCount);

    /// <summary>The value at quantile <paramref name="q"/> (0 to 1), within the relative accuracy; NaN when empty.</summary>
    public double Quantile(double q)
    {
        if (Count == 0)
        {
            return double.NaN;
        }

        var rank = (long)Math.Floor(Math.Clamp(q, 0, 1) * (Count - 1));
        return RepresentativeValue(KeyAtRank(rank));
    }

    /// <summary>The key of the bucket holding the value of 0-based rank <paramref name="rank"/>.</summary>
    public long KeyAtRank(long rank)
    {
        long seen = 0;
        foreach (var (key, count) in Buckets())
        {
            seen += count;
            if (seen > rank)
            {
                return key;
            }
        }

        return long.MaxValue;
    }

    /// <summary>Non-empty buckets as (key, count), in increasing order of value.</summary>
    public IEnumerable<(long Key, long Count)> Buckets()
    {
        for (var j = _negative.Counts.Length - 1; j >= 0; j--)
        {
            if (_negative.Counts[j] != 0)
            {
                yield return (-(_negative.Offset + j + KeyBias), _negative.Counts[j]);
            }
        }

        if (ZeroCount != 0)
        {
            yield return (0, ZeroCount);
        }

        for (var j = 0; j < _positive.Counts.Length; j++)
        {
            if (_positive.Counts[j] != 0)
            {
                yield return (_positive.Offset + j + KeyBias, _positive.Counts[j]);
            }
        }
    }

    /// <summary>Counts of values per bin, where bin j holds keys in (edges[j−1], edges[j]] and the last bin is open above.</summary>
    /// <param name="edges">Increasing bucket keys; the result has edges.Length + 1 bins.</param>
    public long[] CountBins(IReadOnlyList<long> edges)
    {
        ArgumentNullException.ThrowIfNull(edges);
        var bins = new long[edges.Count + 1];
        var bin = 0;
        foreach (var (key, count) in Buckets())
        {
            while (bin < edges.Count && key > edges[bin])
            {
                bin++;
            }

            bins[bin] += count;
        }

        return bins;
    }

    /// <summary>Number of values whose bucket key is below <paramref name="key"/>.</summary>
    public long CountBelowKey(long key) => Buckets().TakeWhile(b => b.Key < key).Sum(b => b.Count);

    /// <summary>Number of values whose bucket key is above <paramref name="key"/>.</summary>
    public long CountAboveKey(long key) => Buckets().Where(b => b.Key > key).Sum(b => b.Count);

    /// <summary>The key of the bucket that <paramref name="value"/> falls in; keys increase with value.</summary>
    public static long KeyOf(double value) =>
        value > MinIndexable ? IndexOf(value) + KeyBias
        : value < -MinIndexable ? -(IndexOf(-value) + KeyBias)
        : 0;

    /// <summary>The value reported for a bucket: the point with equal relative distance to both of its ends.</summary>
    public static double RepresentativeValue(long key)
    {
        if (key == 0)
        {
            return 0;
        }

        var index = Math.Abs(key) - KeyBias;
        var magnitude = 2 * Math.Pow(Gamma, index) / (Gamma + 1);
        return key > 0 ? magnitude : -magnitude;
    }

    /// <summary>The largest value a bucket can hold.</summary>
    public static double UpperBound(long key) => key switch
    {
        0 => MinIndexable,
        > 0 => Math.Pow(Gamma, key - KeyBias),
        _ => -Math.Pow(Gamma, -key - KeyBias - 1),
    };

    // ceil(log_γ(magnitude)) for a positive normal double, from its bits.
    private static int IndexOf(double magnitude)
    {
        var bits = BitConverter.DoubleToInt64Bits(magnitude);
        var exponent = (int)(bits >> 52) - 1023;
        var mantissa = bits & 0xF_FFFF_FFFF_FFFFL;
        int sub = BoundariesBelowCell[mantissa >> (52 - LookupBits)];
        if (mantissa > Boundaries[sub])
        {
            sub++;
        }

        return (exponent * BucketsPerOctave) + sub;
    }

    private static long[] CreateBoundaries()
    {
        var boundaries = new long[BucketsPerOctave + 1];
        for (var k = 1; k < BucketsPerOctave; k++)
        {
            boundaries[k] = (long)Math.Ceiling((Math.Pow(2, (double)k / BucketsPerOctave) - 1) * (1L << 52));
        }

        boundaries[BucketsPerOctave] = long.MaxValue;
        return boundaries;
    }

    private static byte[] CreateLookup()
    {
        var lookup = new byte[1 << LookupBits];
        for (var cell = 0; cell < lookup.Length; cell++)
        {
            var start = (long)cell << (52 - LookupBits);
            lookup[cell] = (byte)Boundaries.Count(b => b < start);
        }

        return lookup;
    }

    // Dense counts over a contiguous range of bucket indices that grows on demand.
    private sealed class BucketArray
    {
        public BucketArray()
        {
            Counts = [];
        }

        public BucketArray(int offset, long[] counts)
        {
            Offset = offset;
            Counts = (long[])counts.Clone();
            foreach (var c in Counts)
            {
                Total += c;
            }
        }

        public int Offset { get; private set; }

        public long[] Counts { get; private set; }

        public long Total { get; private set; }

        public int TrimmedOffset
        {
            get
            {
                var first = Array.FindIndex(Counts, c => c != 0);
                return first < 0 ? 0 : Offset + first;
            }
        }

        public long[] Trimmed()
        {
            var first = Array.FindIndex(Counts, c => c != 0);
            if (first < 0)
            {
                return [];
            }

            var last = Array.FindLastIndex(Counts, c => c != 0);
            return Counts[first..(last + 1)];
        }

        public void Increment(int index)
        {
            var j = index - Offset;
            if ((uint)j < (uint)Counts.Length)
            {
                Counts[j]++;
                Total++;
                return;
            }

            Add(index, 1);
        }

        public void AddAll(BucketArray other)
        {
            for (var j = 0; j < other.Counts.Length; j++)
            {
                if (other.Counts[j] != 0)
                {
                    Add(other.Offset + j, other.Counts[j]);
                }
            }
        }

        private void Add(int index, long count)
        {
            Total += count;
            if (Counts.Length == 0)
            {
                Counts = new long[64];
                Offset = index - 32;
            }

            var low = Math.Min(Offset, index);
            var high = Math.Max(Offset + Counts.Length - 1, index);
            if (low != Offset || high != Offset + Counts.Length - 1)
            {
                Resize(index < Offset, low, high);
            }

            // After a collapse, indices below the kept range land in its lowest bucket.
            Counts[Math.Max(index, Offset) - Offset] += count;
        }

        private void Resize(bool growDown, int low, int high)
        {
            // Grow with slack so that a stream drifting outward does not reallocate per value.
            var slack = Math.Max(32, Counts.Length / 2);
            if (growDown)
            {
                low -= slack;
            }
            else
            {
                high += slack;
            }

            if (high - low + 1 > MaxBucketsPerSign)
            {
                low = high - MaxBucketsPerSign + 1;
            }

            var resized = new long[high - low + 1];
            for (var j = 0; j < Counts.Length; j++)
            {
                if (Counts[j] != 0)
                {
                    var target = Math.Clamp(Offset + j, low, high) - low;
                    resized[target] += Counts[j];
                }
            }

            Counts = resized;
            Offset = low;
        }
    }
}
