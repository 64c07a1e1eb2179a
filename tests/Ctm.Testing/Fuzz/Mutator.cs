using System.Text;

namespace Ctm.Testing.Fuzz;

/// <summary>
/// Deterministic, structure-aware mutation of byte inputs for the readers' and deserializers' fuzz runs: starting from
/// well-formed documents, it flips bits, swaps in the bytes that parsers treat specially (quotes, separators, line
/// breaks, NUL, bytes that are not UTF-8, a BOM), inserts tokens that stress number, escape and nesting handling,
/// deletes, duplicates and truncates ranges, and splices two documents together.
/// </summary>
public sealed class Mutator(int seed)
{
    private static readonly byte[] SpecialBytes = "\"',;\n\r\t{}[]:\\ -.eE0+"u8.ToArray().Concat(new byte[] { 0x00, 0xFF, 0xFE, 0xC3, 0x80, 0xE2, 0xF0, 0xBF, 0x7F }).ToArray();

    private static readonly string[] Tokens =
    [
        "\"", "\"\"", "\r\n", "\r", "\n\n", "\uFEFF", "\\u0000", "\\ud800", "\\uDFFF", "\\", "\\\"", "1e400", "-1e-400", "-0",
        "NaN", "Infinity", "null", "true", "fals", "0x1F", "00012", "1.7976931348623157e309", "9223372036854775808",
        "{", "}", "[", "]", "{}", "[]", "{\"a\":", ":", ",,", "\"a\":1,\"a\":2", "\u00e9", "\ud83d\ude00", "\u0085", "\u2028",
        new string('[', 80), new string('{', 80), new string('a', 300), new string(',', 40),
    ];

    private readonly Random _random = new(seed);

    /// <summary>The random source, for generators that share the mutator's seed.</summary>
    public Random Random => _random;

    /// <summary>One to four mutations of <paramref name="input"/>; <paramref name="other"/> is the splice partner.</summary>
    public byte[] Mutate(byte[] input, byte[] other)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(other);
        var bytes = new List<byte>(input);
        var count = 1 + _random.Next(4);
        for (var i = 0; i < count; i++)
        {
            MutateOnce(bytes, other);
        }

        return [.. bytes];
    }

    private void MutateOnce(List<byte> bytes, byte[] other)
    {
        var at = bytes.Count == 0 ? 0 : _random.Next(bytes.Count + 1);
        switch (_random.Next(9))
        {
            case 0 when bytes.Count > 0:
                var flip = Math.Min(at, bytes.Count - 1);
                bytes[flip] ^= (byte)(1 << _random.Next(8));
                break;
            case 1 when bytes.Count > 0:
                bytes[Math.Min(at, bytes.Count - 1)] = SpecialBytes[_random.Next(SpecialBytes.Length)];
                break;
            case 2:
                bytes.Insert(at, SpecialBytes[_random.Next(SpecialBytes.Length)]);
                break;
            case 3:
            case 4:
                bytes.InsertRange(at, Encoding.UTF8.GetBytes(Tokens[_random.Next(Tokens.Length)]));
                break;
            case 5 when bytes.Count > 0:
                var length = Math.Min(1 + _random.Next(16), bytes.Count - Math.Min(at, bytes.Count - 1));
                bytes.RemoveRange(Math.Min(at, bytes.Count - 1), length);
                break;
            case 6 when bytes.Count > 0:
                var start = Math.Min(at, bytes.Count - 1);
                var take = Math.Min(1 + _random.Next(32), bytes.Count - start);
                bytes.InsertRange(_random.Next(bytes.Count + 1), bytes.GetRange(start, take));
                break;
            case 7:
                bytes.RemoveRange(at, bytes.Count - at);
                break;
            default:
                var from = other.Length == 0 ? 0 : _random.Next(other.Length);
                bytes.RemoveRange(at, bytes.Count - at);
                bytes.AddRange(other.AsSpan(from).ToArray());
                break;
        }
    }

    /// <summary>A short random text: ASCII words, digits, punctuation parsers care about, and some non-ASCII letters.</summary>
    public string Text(int maxLength)
    {
        var length = _random.Next(maxLength + 1);
        var text = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            text.Append(_random.Next(20) switch
            {
                0 => '"',
                1 => ',',
                2 => '\n',
                3 => ' ',
                4 => 'é',
                5 => '\\',
                6 => '日',
                < 12 => (char)('0' + _random.Next(10)),
                _ => (char)('a' + _random.Next(26)),
            });
        }

        return text.ToString();
    }
}
