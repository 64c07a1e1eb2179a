namespace Ctm.Data.Parsing;

/// <summary>
/// Text PostgreSQL refuses to store: U+0000 (neither <c>text</c> nor <c>jsonb</c> holds it) and unpaired UTF-16
/// surrogates (they have no UTF-8 encoding). Readers refuse such text at the edge, with its position, rather than let a
/// batch fail later in a consumer where no retry can ever succeed.
/// </summary>
public static class StoredText
{
    /// <summary>The index of the first character PostgreSQL would refuse in <paramref name="text"/>, or -1.</summary>
    public static int FindRefused(ReadOnlySpan<char> text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\0')
            {
                return i;
            }

            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Why the character at <paramref name="index"/> of <paramref name="text"/> is refused, for an error message.</summary>
    public static string Describe(ReadOnlySpan<char> text, int index) => text[index] == '\0'
        ? "a NUL character (U+0000): PostgreSQL cannot store it; remove it from the field"
        : $"an unpaired UTF-16 surrogate (U+{(int)text[index]:X4}): it is not a Unicode character; fix the escape";
}
