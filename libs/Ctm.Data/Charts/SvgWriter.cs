using System.Globalization;
using System.Security;
using System.Text;

namespace Ctm.Data.Charts;

/// <summary>How a shape is painted; a null member leaves the attribute out (SVG's default).</summary>
/// <param name="Fill">The fill colour (<c>none</c> for an outline).</param>
/// <param name="Stroke">The outline colour.</param>
/// <param name="StrokeWidth">The outline width in pixels.</param>
/// <param name="Dash">The <c>stroke-dasharray</c> (<c>4 3</c>).</param>
/// <param name="ArrowEnd">The id of a marker drawn at the end of a line or path (see <see cref="SvgWriter.ArrowMarker"/>).</param>
public sealed record SvgPaint(string? Fill = null, string? Stroke = null, double? StrokeWidth = null, string? Dash = null, string? ArrowEnd = null);

/// <summary>How a text is set; a null member leaves the attribute out (the document's font size, black).</summary>
/// <param name="Anchor"><c>start</c> (the default), <c>middle</c> or <c>end</c>.</param>
/// <param name="Size">The font size in pixels.</param>
/// <param name="Fill">The text colour.</param>
/// <param name="Bold">Bold type.</param>
/// <param name="Rotate">Degrees to turn the text about its anchor point (-90 for a vertical axis label).</param>
public sealed record SvgFont(string? Anchor = null, double? Size = null, string? Fill = null, bool Bold = false, double? Rotate = null);

/// <summary>One entry of a legend: a swatch (a box, or a short line) painted as its series, its label, and the room it takes.</summary>
/// <param name="Label">What the swatch stands for.</param>
/// <param name="Swatch">The series' paint.</param>
/// <param name="Width">Pixels from this entry's left edge to the next one's.</param>
/// <param name="Line">A short line instead of a box (for a series drawn as lines).</param>
public sealed record SvgLegendEntry(string Label, SvgPaint Swatch, double Width, bool Line = false);

/// <summary>Maps a value range linearly onto a pixel range (either may be reversed, as a y axis is).</summary>
/// <param name="From">The value drawn at <paramref name="FromPixel"/>.</param>
/// <param name="To">The value drawn at <paramref name="ToPixel"/>.</param>
/// <param name="FromPixel">Where <paramref name="From"/> lies.</param>
/// <param name="ToPixel">Where <paramref name="To"/> lies.</param>
public readonly record struct SvgScale(double From, double To, double FromPixel, double ToPixel)
{
    /// <summary>The pixel of <paramref name="value"/>; a scale of one value puts everything in the middle of its pixels.</summary>
    public double Map(double value) => To == From ? (FromPixel + ToPixel) / 2 : FromPixel + ((ToPixel - FromPixel) * (value - From) / (To - From));
}

/// <summary>
/// Writes the SVG documents of Ctm's pictures (the drift chart, the Trainer's loss and quality curves, the Registry's
/// lineage) from a few primitives, so that each picture says what it draws and all of them open the document, format
/// numbers (invariant, two decimals at most) and escape text (a dataset or feature name shows as written) one way.
/// </summary>
public sealed class SvgWriter
{
    private readonly StringBuilder _svg = new();

    /// <summary>Opens a document of <paramref name="width"/> × <paramref name="height"/> pixels, sans-serif text of <paramref name="fontSize"/> pixels, on <paramref name="background"/> when given.</summary>
    public SvgWriter(int width, int height, int fontSize, string? background = null)
    {
        (Width, Height) = (width, height);
        _svg.Append(CultureInfo.InvariantCulture,
            $"""<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="{fontSize}">""");
        if (background is not null)
        {
            Rect(0, 0, width, height, new SvgPaint(background));
        }
    }

    /// <summary>The document's width in pixels.</summary>
    public int Width { get; }

    /// <summary>The document's height in pixels.</summary>
    public int Height { get; }

    /// <summary><paramref name="text"/> escaped for SVG text and attribute values (<c>&lt; &gt; &amp; &quot; &apos;</c>).</summary>
    public static string Escape(string? text) => SecurityElement.Escape(text) ?? string.Empty;

    /// <summary>Defines an arrowhead marker named <paramref name="id"/> for <see cref="SvgPaint.ArrowEnd"/>.</summary>
    public SvgWriter ArrowMarker(string id, string fill)
    {
        _svg.Append(CultureInfo.InvariantCulture,
            $"""<defs><marker id="{Escape(id)}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="{Escape(fill)}"/></marker></defs>""");
        return NewLine();
    }

    /// <summary>The document's title (a tooltip in browsers).</summary>
    public SvgWriter Title(string text)
    {
        _svg.Append("<title>").Append(Escape(text)).Append("</title>");
        return this;
    }

    /// <summary>Opens a group (<c>class</c>, then <c>id</c>, then a font size), with a tooltip when <paramref name="title"/> is given; close it with <see cref="EndGroup"/>.</summary>
    public SvgWriter Group(string? cssClass, string? id = null, string? title = null, double? fontSize = null)
    {
        _svg.Append("<g");
        Attribute("class", cssClass).Attribute("id", id).Attribute("font-size", fontSize);
        _svg.Append('>');
        return title is null ? this : Title(title);
    }

    /// <summary>Closes the group <see cref="Group"/> opened.</summary>
    public SvgWriter EndGroup()
    {
        _svg.Append("</g>");
        return this;
    }

    /// <summary>A line break between parts of the document, so that its text reads part by part.</summary>
    public SvgWriter NewLine()
    {
        _svg.Append('\n');
        return this;
    }

    /// <summary>A text at (<paramref name="x"/>, <paramref name="y"/>) (the baseline's start, or its middle or end by the font's anchor).</summary>
    public SvgWriter Text(double x, double y, string text, SvgFont? font = null)
    {
        _svg.Append("<text");
        Attribute("x", x).Attribute("y", y);
        if (font is not null)
        {
            Attribute("text-anchor", font.Anchor).Attribute("font-size", font.Size).Attribute("font-weight", font.Bold ? "bold" : null).Attribute("fill", font.Fill);
            if (font.Rotate is { } degrees)
            {
                Attribute("transform", string.Create(CultureInfo.InvariantCulture, $"rotate({degrees:0.##} {x:0.##} {y:0.##})"));
            }
        }

        _svg.Append('>').Append(Escape(text)).Append("</text>");
        return this;
    }

    /// <summary>A rectangle (a bar, a box, a swatch), corners rounded by <paramref name="radius"/>, with a tooltip when <paramref name="title"/> is given.</summary>
    public SvgWriter Rect(double x, double y, double width, double height, SvgPaint paint, string? title = null, double? radius = null)
    {
        _svg.Append("<rect");
        Attribute("x", x).Attribute("y", y).Attribute("width", width).Attribute("height", height).Attribute("rx", radius);
        return Painted(paint).Close("rect", title);
    }

    /// <summary>A vertical bar of <paramref name="value"/> on <paramref name="scale"/> (a value axis whose zero is the baseline), <paramref name="width"/> wide from <paramref name="x"/>.</summary>
    public SvgWriter Bar(double x, double width, double value, SvgScale scale, SvgPaint paint, string? title = null)
    {
        var top = scale.Map(value);
        var bottom = scale.Map(0);
        return Rect(x, Math.Min(top, bottom), width, Math.Abs(bottom - top), paint, title);
    }

    /// <summary>A straight line from (<paramref name="x1"/>, <paramref name="y1"/>) to (<paramref name="x2"/>, <paramref name="y2"/>).</summary>
    public SvgWriter Line(double x1, double y1, double x2, double y2, SvgPaint paint, string? cssClass = null)
    {
        _svg.Append("<line");
        Attribute("class", cssClass).Attribute("x1", x1).Attribute("y1", y1).Attribute("x2", x2).Attribute("y2", y2);
        return Painted(paint).Close("line", null);
    }

    /// <summary>A path of SVG path data <paramref name="d"/> (an arc, the two axes).</summary>
    public SvgWriter Path(string d, SvgPaint paint, string? cssClass = null)
    {
        _svg.Append("<path");
        Attribute("class", cssClass).Attribute("d", d);
        return Painted(paint with { Fill = paint.Fill ?? "none" }).Close("path", null);
    }

    /// <summary>The left and bottom axes of the plot area from (<paramref name="x0"/>, <paramref name="y0"/>) (bottom left) to (<paramref name="x1"/>, <paramref name="y1"/>) (top right).</summary>
    public SvgWriter Axes(double x0, double y0, double x1, double y1) =>
        Path(string.Create(CultureInfo.InvariantCulture, $"M{x0:0.##} {y1:0.##} V{y0:0.##} H{x1:0.##}"), new SvgPaint(Stroke: "black"));

    /// <summary>A series as a line through <paramref name="points"/> (pixels), in order.</summary>
    public SvgWriter Polyline(IEnumerable<(double X, double Y)> points, string stroke, double strokeWidth)
    {
        _svg.Append("<polyline fill=\"none\"");
        Attribute("stroke", stroke).Attribute("stroke-width", strokeWidth);
        _svg.Append(" points=\"").AppendJoin(' ', points.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.X:0.##},{p.Y:0.##}"))).Append("\"/>");
        return this;
    }

    /// <summary>A point of a series: a dot of radius <paramref name="radius"/> with its value as a tooltip.</summary>
    public SvgWriter Dot(double x, double y, double radius, string fill, string title)
    {
        _svg.Append("<circle");
        Attribute("cx", x).Attribute("cy", y).Attribute("r", radius).Attribute("fill", fill);
        return Close("circle", title);
    }

    /// <summary>A legend: its entries left to right from (<paramref name="x"/>, <paramref name="y"/>) (the labels' baseline).</summary>
    public SvgWriter Legend(double x, double y, IEnumerable<SvgLegendEntry> entries, double? fontSize = null)
    {
        ArgumentNullException.ThrowIfNull(entries);
        Group("legend", fontSize: fontSize);
        foreach (var entry in entries)
        {
            if (entry.Line)
            {
                Line(x, y - 4, x + 30, y - 4, entry.Swatch).Text(x + 36, y, entry.Label);
            }
            else
            {
                Rect(x, y - 10, 12, 12, entry.Swatch).Text(x + 18, y, entry.Label);
            }

            x += entry.Width;
        }

        return EndGroup();
    }

    /// <summary>Closes the document and returns it.</summary>
    public string Finish() => _svg.Append("</svg>\n").ToString();

    private SvgWriter Painted(SvgPaint paint) =>
        Attribute("fill", paint.Fill).Attribute("stroke", paint.Stroke).Attribute("stroke-width", paint.StrokeWidth).Attribute("stroke-dasharray", paint.Dash)
            .Attribute("marker-end", paint.ArrowEnd is null ? null : $"url(#{paint.ArrowEnd})");

    private SvgWriter Close(string element, string? title)
    {
        if (title is null)
        {
            _svg.Append("/>");
        }
        else
        {
            _svg.Append("><title>").Append(Escape(title)).Append("</title></").Append(element).Append('>');
        }

        return this;
    }

    private SvgWriter Attribute(string name, string? value)
    {
        if (value is not null)
        {
            _svg.Append(' ').Append(name).Append("=\"").Append(Escape(value)).Append('"');
        }

        return this;
    }

    private SvgWriter Attribute(string name, double? value)
    {
        if (value is { } v)
        {
            _svg.Append(' ').Append(name).Append("=\"").Append(v.ToString("0.##", CultureInfo.InvariantCulture)).Append('"');
        }

        return this;
    }
}
