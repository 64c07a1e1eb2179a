using Ctm.Data.Charts;

namespace Ctm.Trainer.Charts;

/// <summary>
/// The frame the Trainer's line charts share: canvas, title, axes, axis labels, the empty-chart message and the
/// value axis with its three grid lines. The charts draw their series through <see cref="Svg"/>.
/// </summary>
public sealed class SvgChart
{
    private const int Left = 64, Right = 16, Bottom = 44;
    private const string Blue = "#1f77b4";

    private SvgScale _values;

    public SvgChart(int width, int height, int top, string title, string xLabel, string yLabel)
    {
        (X0, X1, Y0, Y1) = (Left, width - Right, height - Bottom, top);
        _values = new SvgScale(0, 1, Y0, Y1);
        Svg = new SvgWriter(width, height, fontSize: 12, background: "white")
            .Text(width / 2.0, 20, title, new SvgFont("middle", 14))
            .Axes(X0, Y0, X1, Y1)
            .Text((X0 + X1) / 2.0, height - 8, xLabel, new SvgFont("middle"))
            .Text(14, (Y0 + Y1) / 2.0, yLabel, new SvgFont("middle", Rotate: -90));
    }

    public SvgWriter Svg { get; }

    /// <summary>The plot area: x from <see cref="X0"/> to <see cref="X1"/>, y from <see cref="Y0"/> (bottom) to <see cref="Y1"/> (top).</summary>
    public int X0 { get; }

    public int X1 { get; }

    public int Y0 { get; }

    public int Y1 { get; }

    /// <summary>The x scale from <paramref name="first"/> (the plot's left edge) to <paramref name="last"/> (its right edge); with one value, the middle.</summary>
    public SvgScale Positions(int first, int last) => new(first, last, X0, X1);

    /// <summary>The chart with <paramref name="message"/> in the middle instead of a series.</summary>
    public string Empty(string message) => Svg.Text((X0 + X1) / 2.0, (Y0 + Y1) / 2.0, message, new SvgFont("middle")).Finish();

    /// <summary>Sets the value axis to [min, max] (widened by ±0.5 when flat) and draws its three labelled grid lines.</summary>
    public void ValueAxis(double min, double max, Func<double, string> format)
    {
        ArgumentNullException.ThrowIfNull(format);
        var (low, high) = max - min < 1e-12 ? (min - 0.5, max + 0.5) : (min, max);
        _values = new SvgScale(low, high, Y0, Y1);
        foreach (var v in new[] { low, (low + high) / 2, high })
        {
            var y = Y(v);
            Svg.Line(X0, y, X1, y, new SvgPaint(Stroke: "#ddd")).Text(X0 - 6, y + 4, format(v), new SvgFont("end"));
        }
    }

    /// <summary>The y position of <paramref name="value"/> on the value axis.</summary>
    public double Y(double value) => _values.Map(value);

    /// <summary>A series: its line through every point, and a dot per point with its tooltip (alarms larger and red).</summary>
    public void Series(IReadOnlyList<(double X, double Y, string Title, bool Alert)> points, double strokeWidth)
    {
        ArgumentNullException.ThrowIfNull(points);
        Svg.Polyline(points.Select(p => (p.X, p.Y)), Blue, strokeWidth);
        foreach (var p in points)
        {
            Svg.Dot(p.X, p.Y, p.Alert ? 4.5 : 2.5, p.Alert ? "#d62728" : Blue, p.Title);
        }
    }

    public string Finish() => Svg.Finish();
}
