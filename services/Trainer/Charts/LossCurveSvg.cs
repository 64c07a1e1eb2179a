using System.Globalization;

namespace Ctm.Trainer.Charts;

/// <summary>Draws a run's loss curve (mean training loss per epoch) as a self-contained SVG line chart.</summary>
public static class LossCurveSvg
{
    private const int Width = 640, Height = 320, Top = 32;

    public static string Render(IReadOnlyList<double> curve, string title)
    {
        var points = curve.Select((loss, i) => (Epoch: i + 1, Loss: loss)).Where(p => double.IsFinite(p.Loss)).ToList();
        var chart = new SvgChart(Width, Height, Top, title, "epoch", "training loss");
        var svg = chart.Svg;
        var (x0, x1, y0) = (chart.X0, chart.X1, chart.Y0);
        if (points.Count == 0)
        {
            return chart.Empty("no loss recorded");
        }

        chart.ValueAxis(points.Min(p => p.Loss), points.Max(p => p.Loss), Format);
        var last = points[^1].Epoch;
        double X(int epoch) => last == 1 ? (x0 + x1) / 2.0 : x0 + ((x1 - x0) * (epoch - 1.0) / (last - 1));
        double Y(double loss) => chart.Y(loss);
        foreach (var epoch in new[] { 1, (1 + last) / 2, last }.Distinct())
        {
            svg.Append(CultureInfo.InvariantCulture, $"""<text x="{X(epoch):0.#}" y="{y0 + 16}" text-anchor="middle">{epoch}</text>""");
        }

        svg.Append("<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"");
        svg.AppendJoin(' ', points.Select(p => string.Create(CultureInfo.InvariantCulture, $"{X(p.Epoch):0.##},{Y(p.Loss):0.##}")));
        svg.Append("\"/>");
        foreach (var p in points)
        {
            svg.Append(CultureInfo.InvariantCulture, $"""<circle cx="{X(p.Epoch):0.##}" cy="{Y(p.Loss):0.##}" r="2.5" fill="#1f77b4"><title>epoch {p.Epoch}: {p.Loss:0.#####}</title></circle>""");
        }

        return chart.Finish();
    }

    private static string Format(double v) => v.ToString(Math.Abs(v) >= 100 ? "0" : "0.####", CultureInfo.InvariantCulture);
}
