namespace Ctm.Data.Statistics;

/// <summary>
/// Counts the values of a column with a small domain (most categorical columns) in a tiny open-addressing table
/// with a cheap multiplicative hash of the characters, cheaper per cell than a general dictionary lookup.
/// Holds at most <see cref="MaxValues"/> distinct values; the caller then flushes it into
/// <see cref="CategoricalStatistics"/> and counts there, with the same result as counting there from the start.
/// </summary>
internal sealed class SmallValueCounter
{
    /// <summary>The most distinct values held.</summary>
    public const int MaxValues = 32;

    private const int Slots = 64;
    private readonly string?[] _keys = new string?[Slots];
    private readonly int[] _hashes = new int[Slots];
    private readonly long[] _counts = new long[Slots];
    private int _size;

    /// <summary>Counts <paramref name="value"/>; false (and nothing counted) when it is new and the table is full.</summary>
    public bool TryAdd(ReadOnlySpan<char> value)
    {
        var hash = Hash(value);
        var slot = hash & (Slots - 1);
        while (true)
        {
            var key = _keys[slot];
            if (key is null)
            {
                if (_size == MaxValues)
                {
                    return false;
                }

                _keys[slot] = value.ToString();
                _hashes[slot] = hash;
                _counts[slot] = 1;
                _size++;
                return true;
            }

            if (_hashes[slot] == hash && value.SequenceEqual(key))
            {
                _counts[slot]++;
                return true;
            }

            slot = (slot + 1) & (Slots - 1);
        }
    }

    /// <summary>Adds every count to <paramref name="target"/> and empties the table.</summary>
    public void FlushTo(CategoricalStatistics target)
    {
        for (var slot = 0; slot < Slots; slot++)
        {
            if (_keys[slot] is { } key)
            {
                target.AddCount(key, _counts[slot]);
                _keys[slot] = null;
                _counts[slot] = 0;
            }
        }

        _size = 0;
    }

    private static int Hash(ReadOnlySpan<char> value)
    {
        var h = (uint)value.Length * 0x9E3779B1u;
        foreach (var c in value)
        {
            h = (h ^ c) * 0x01000193u;
        }

        return (int)(h ^ (h >> 15));
    }
}
