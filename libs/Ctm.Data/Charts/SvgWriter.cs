using System.Globalization;
using System.Security;
using System.Text;

namespace Ctm.Data.Charts;

/// <summary>
/// What Ctm's pictures (the drift chart, the Trainer's loss and quality curves, the Registry's lineage) share: the
/// opening <c>svg</c> element and one way to escape text, so a dataset or feature name shows as written in all of them.
/// </summary>
public static class SvgWriter
{
    /// <summary>A new document holding the opening <c>svg</c> element (sans-serif text of <paramref name="fontSize"/> pixels).</summary>
    public static StringBuilder Start(int width, int height, int fontSize) => new StringBuilder().Append(CultureInfo.InvariantCulture,
        $"""<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="{fontSize}">""");

    /// <summary><paramref name="text"/> escaped for SVG text and attribute values (<c>&lt; &gt; &amp; &quot; &apos;</c>).</summary>
    public static string Escape(string? text) => SecurityElement.Escape(text) ?? string.Empty;
}
