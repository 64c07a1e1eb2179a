using System.Globalization;

namespace Ctm.Data.Statistics;

/// <summary>Parses decimal numbers from CSV cells without allocating.</summary>
public static class NumberParser
{
    // Exact powers of ten up to 1e22 are representable, so mantissa (< 2^53) times or divided by
    // one of them is correctly rounded (Clinger's fast path); everything else goes to the BCL.
    private static readonly double[] PowersOfTen =
    [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];

    /// <summary>
    /// Parses <paramref name="text"/> as an invariant-culture number (sign, digits, decimal point,
    /// exponent; also NaN and Infinity spellings). Surrounding spaces are allowed.
    /// </summary>
    /// <returns>False when the text is not a number.</returns>
    public static bool TryParse(ReadOnlySpan<char> text, out double value)
    {
        if (TryParseFast(text, out value))
        {
            return true;
        }

        var trimmed = text.Trim();
        if (trimmed.Length is >= 3 and <= 4)
        {
            var body = trimmed[0] is '+' or '-' ? trimmed[1..] : trimmed;
            if (body.Equals("inf", StringComparison.OrdinalIgnoreCase))
            {
                value = trimmed[0] == '-' ? double.NegativeInfinity : double.PositiveInfinity;
                return true;
            }

            if (body.Equals("nan", StringComparison.OrdinalIgnoreCase))
            {
                value = double.NaN;
                return true;
            }
        }

        return double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    private static bool TryParseFast(ReadOnlySpan<char> s, out double value)
    {
        value = 0;
        var i = 0;
        var n = s.Length;
        if (n == 0 || n > 24)
        {
            return false;
        }

        var negative = false;
        if (s[0] is '-' or '+')
        {
            negative = s[0] == '-';
            i++;
        }

        ulong mantissa = 0;
        var digits = 0;
        var scale = 0;
        var start = i;
        while (i < n && (uint)(s[i] - '0') <= 9)
        {
            mantissa = (mantissa * 10) + (uint)(s[i] - '0');
            digits++;
            i++;
        }

        if (i < n && s[i] == '.')
        {
            i++;
            while (i < n && (uint)(s[i] - '0') <= 9)
            {
                mantissa = (mantissa * 10) + (uint)(s[i] - '0');
                digits++;
                scale--;
                i++;
            }
        }

        if (digits == 0 || digits > 15 || i - start == 0)
        {
            return false;
        }

        if (i < n && (s[i] | 0x20) == 'e')
        {
            i++;
            var expNegative = false;
            if (i < n && s[i] is '-' or '+')
            {
                expNegative = s[i] == '-';
                i++;
            }

            var exp = 0;
            var expDigits = 0;
            while (i < n && (uint)(s[i] - '0') <= 9 && expDigits < 4)
            {
                exp = (exp * 10) + (s[i] - '0');
                expDigits++;
                i++;
            }

            if (expDigits == 0)
            {
                return false;
            }

            scale += expNegative ? -exp : exp;
        }

        if (i != n)
        {
            return false;
        }

        double result = mantissa;
        if (scale < 0)
        {
            if (scale < -22)
            {
                return false;
            }

            result /= PowersOfTen[-scale];
        }
        else if (scale > 0)
        {
            if (scale > 22)
            {
                return false;
            }

            result *= PowersOfTen[scale];
        }

        value = negative ? -result : result;
        return true;
    }
}
