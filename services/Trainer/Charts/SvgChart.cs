using System.Globalization;
using System.Text;
using Ctm.Data.Charts;

namespace Ctm.Trainer.Charts;

/// <summary>
/// The frame the Trainer's line charts share: canvas, title, axes, axis labels, the empty-chart message and the
/// value axis with its three grid lines. The charts draw their own x positions and series into <see cref="Svg"/>.
/// </summary>
public sealed class SvgChart
{
    private const int Left = 64, Right = 16, Bottom = 44;

    private double _min, _max = 1;

    public SvgChart(int width, int height, int top, string title, string xLabel, string yLabel)
    {
        (Width, Height) = (width, height);
        (X0, X1, Y0, Y1) = (Left, width - Right, height - Bottom, top);
        Svg = SvgWriter.Start(width, height, fontSize: 12);
        Svg.Append(CultureInfo.InvariantCulture, $"""<rect width="{width}" height="{height}" fill="white"/>""");
        Svg.Append(CultureInfo.InvariantCulture, $"""<text x="{width / 2}" y="20" text-anchor="middle" font-size="14">{SvgWriter.Escape(title)}</text>""");
        Svg.Append(CultureInfo.InvariantCulture, $"""<path d="M{X0} {Y1} V{Y0} H{X1}" stroke="black" fill="none"/>""");
        Svg.Append(CultureInfo.InvariantCulture, $"""<text x="{(X0 + X1) / 2}" y="{height - 8}" text-anchor="middle">{SvgWriter.Escape(xLabel)}</text>""");
        Svg.Append(CultureInfo.InvariantCulture, $"""<text x="14" y="{(Y0 + Y1) / 2}" text-anchor="middle" transform="rotate(-90 14 {(Y0 + Y1) / 2})">{SvgWriter.Escape(yLabel)}</text>""");
    }

    public StringBuilder Svg { get; }

    public int Width { get; }

    public int Height { get; }

    /// <summary>The plot area: x from <see cref="X0"/> to <see cref="X1"/>, y from <see cref="Y0"/> (bottom) to <see cref="Y1"/> (top).</summary>
    public int X0 { get; }

    public int X1 { get; }

    public int Y0 { get; }

    public int Y1 { get; }

    /// <summary>The chart with <paramref name="message"/> in the middle instead of a series.</summary>
    public string Empty(string message)
    {
        Svg.Append(CultureInfo.InvariantCulture, $"""<text x="{(X0 + X1) / 2}" y="{(Y0 + Y1) / 2}" text-anchor="middle">{SvgWriter.Escape(message)}</text>""");
        return Finish();
    }

    /// <summary>Sets the value axis to [min, max] (widened by ±0.5 when flat) and draws its three labelled grid lines.</summary>
    public void ValueAxis(double min, double max, Func<double, string> format)
    {
        (_min, _max) = max - min < 1e-12 ? (min - 0.5, max + 0.5) : (min, max);
        foreach (var v in new[] { _min, (_min + _max) / 2, _max })
        {
            var y = Y(v);
            Svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{X0}" y1="{y:0.#}" x2="{X1}" y2="{y:0.#}" stroke="#ddd"/><text x="{X0 - 6}" y="{y + 4:0.#}" text-anchor="end">{format(v)}</text>""");
        }
    }

    /// <summary>The y position of <paramref name="value"/> on the value axis.</summary>
    public double Y(double value) => Y0 - ((Y0 - Y1) * (value - _min) / (_max - _min));

    public string Finish() => Svg.Append("</svg>").ToString();
}
