using System.Globalization;

namespace Ctm.Trainer.Charts;

/// <summary>A scored batch on the chart: its order, the version that scored it, the metric, and whether it alarmed.</summary>
public sealed record QualityChartPoint(long Seq, int Version, double Value, bool Alert);

/// <summary>
/// Draws a metric over the scored batches as a self-contained SVG: one point per batch in arrival order, a dashed
/// line where the serving version changed (labelled <c>v5</c>, or <c>rollback to v3</c> when it went back), alarms in red.
/// </summary>
public static class QualitySvg
{
    private const int Width = 720, Height = 340, Top = 44;

    public static string Render(IReadOnlyList<QualityChartPoint> points, string title, string metric)
    {
        ArgumentNullException.ThrowIfNull(points);
        var chart = new SvgChart(Width, Height, Top, title, "labeled batch (arrival order)", metric);
        var svg = chart.Svg;
        var (x0, x1, y0, y1) = (chart.X0, chart.X1, chart.Y0, chart.Y1);
        if (points.Count == 0)
        {
            return chart.Empty("no labeled batch scored yet");
        }

        chart.ValueAxis(points.Min(p => p.Value), points.Max(p => p.Value), v => v.ToString("0.####", CultureInfo.InvariantCulture));
        double X(int i) => points.Count == 1 ? (x0 + x1) / 2.0 : x0 + ((x1 - x0) * i / (points.Count - 1.0));
        double Y(double v) => chart.Y(v);
        for (var i = 0; i < points.Count; i++)
        {
            if (i == 0 || points[i].Version != points[i - 1].Version)
            {
                var label = i > 0 && points[i].Version < points[i - 1].Version ? $"rollback to v{points[i].Version}" : $"v{points[i].Version}";
                svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{X(i):0.##}" y1="{y1 - 6}" x2="{X(i):0.##}" y2="{y0}" stroke="#999" stroke-dasharray="4 3"/><text x="{X(i) + 3:0.##}" y="{y1 - 8}" font-size="10">{label}</text>""");
            }
        }

        svg.Append("<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" points=\"");
        svg.AppendJoin(' ', points.Select((p, i) => string.Create(CultureInfo.InvariantCulture, $"{X(i):0.##},{Y(p.Value):0.##}")));
        svg.Append("\"/>");
        for (var i = 0; i < points.Count; i++)
        {
            var p = points[i];
            svg.Append(CultureInfo.InvariantCulture, $"""<circle cx="{X(i):0.##}" cy="{Y(p.Value):0.##}" r="{(p.Alert ? 4.5 : 2.5)}" fill="{(p.Alert ? "#d62728" : "#1f77b4")}"><title>batch #{p.Seq}, v{p.Version}: {p.Value:0.#####}{(p.Alert ? " (alarm)" : "")}</title></circle>""");
        }

        return chart.Finish();
    }
}
