using System.Numerics;
using System.Text.Json.Serialization;

namespace Ctm.Data.Statistics;

/// <summary>
/// A HyperLogLog distinct-count estimator with 2^12 registers: standard error about 1.6%, 4 KB,
/// mergeable by register-wise maximum. Hashes are computed by <see cref="Hash"/>, stable across processes.
/// </summary>
public sealed class HyperLogLog
{
    private const int Precision = 12;
    private const int RegisterCount = 1 << Precision;

    /// <summary>Creates an empty estimator.</summary>
    public HyperLogLog()
    {
        Registers = new byte[RegisterCount];
    }

    /// <summary>Restores an estimator from its registers.</summary>
    [JsonConstructor]
    public HyperLogLog(byte[] registers)
    {
        ArgumentNullException.ThrowIfNull(registers);
        if (registers.Length != RegisterCount)
        {
            throw new ArgumentException($"expected {RegisterCount} registers, found {registers.Length}", nameof(registers));
        }

        Registers = (byte[])registers.Clone();
    }

    /// <summary>The registers (serialized as base64).</summary>
    public byte[] Registers { get; }

    /// <summary>Adds a value by its 64-bit hash.</summary>
    public void AddHash(ulong hash)
    {
        var register = (int)(hash >> (64 - Precision));
        var rank = (byte)(BitOperations.LeadingZeroCount((hash << Precision) | (1UL << (Precision - 1))) + 1);
        if (rank > Registers[register])
        {
            Registers[register] = rank;
        }
    }

    /// <summary>Adds a text value.</summary>
    public void Add(ReadOnlySpan<char> value) => AddHash(Hash(value));

    /// <summary>Merges <paramref name="other"/> into this estimator.</summary>
    public void Merge(HyperLogLog other)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (var i = 0; i < RegisterCount; i++)
        {
            Registers[i] = Math.Max(Registers[i], other.Registers[i]);
        }
    }

    /// <summary>A deep copy.</summary>
    public HyperLogLog Clone() => new(Registers);

    /// <summary>The estimated number of distinct values.</summary>
    public long Estimate()
    {
        double sum = 0;
        var zeros = 0;
        foreach (var r in Registers)
        {
            sum += Math.ScaleB(1, -r);
            if (r == 0)
            {
                zeros++;
            }
        }

        const double alpha = 0.7213 / (1 + (1.079 / RegisterCount));
        var estimate = alpha * RegisterCount * RegisterCount / sum;
        if (estimate <= 2.5 * RegisterCount && zeros > 0)
        {
            // Linear counting is more accurate while many registers are still empty.
            estimate = RegisterCount * Math.Log((double)RegisterCount / zeros);
        }

        return (long)Math.Round(estimate);
    }

    /// <summary>A stable 64-bit hash of text (FNV-1a over UTF-16 code units, then a murmur finalizer).</summary>
    public static ulong Hash(ReadOnlySpan<char> value)
    {
        var h = 14695981039346656037UL;
        foreach (var c in value)
        {
            h = (h ^ c) * 1099511628211UL;
        }

        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdUL;
        h ^= h >> 33;
        h *= 0xc4ceb9fe1a85ec53UL;
        h ^= h >> 33;
        return h;
    }
}
