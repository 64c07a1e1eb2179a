using System.Globalization;
using System.Security;
using System.Text;

namespace Ctm.Trainer.Apis;

/// <summary>A scored batch on the chart: its order, the version that scored it, the metric, and whether it alarmed.</summary>
public sealed record QualityChartPoint(long Seq, int Version, double Value, bool Alert);

/// <summary>
/// Draws a metric over the scored batches as a self-contained SVG: one point per batch in arrival order, a dashed
/// line where the serving version changed (labelled <c>v5</c>, or <c>rollback to v3</c> when it went back), alarms in red.
/// </summary>
public static class QualitySvg
{
    private const int Width = 720, Height = 340, Left = 64, Right = 16, Top = 44, Bottom = 44;

    public static string Render(IReadOnlyList<QualityChartPoint> points, string title, string metric)
    {
        ArgumentNullException.ThrowIfNull(points);
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{Width}" height="{Height}" viewBox="0 0 {Width} {Height}" font-family="sans-serif" font-size="12">""");
        svg.Append(CultureInfo.InvariantCulture, $"""<rect width="{Width}" height="{Height}" fill="white"/>""");
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{Width / 2}" y="20" text-anchor="middle" font-size="14">{SecurityElement.Escape(title)}</text>""");
        var (x0, x1, y0, y1) = (Left, Width - Right, Height - Bottom, Top);
        svg.Append(CultureInfo.InvariantCulture, $"""<path d="M{x0} {y1} V{y0} H{x1}" stroke="black" fill="none"/>""");
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{(x0 + x1) / 2}" y="{Height - 8}" text-anchor="middle">labeled batch (arrival order)</text>""");
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="14" y="{(y0 + y1) / 2}" text-anchor="middle" transform="rotate(-90 14 {(y0 + y1) / 2})">{SecurityElement.Escape(metric)}</text>""");
        if (points.Count == 0)
        {
            svg.Append(CultureInfo.InvariantCulture, $"""<text x="{(x0 + x1) / 2}" y="{(y0 + y1) / 2}" text-anchor="middle">no labeled batch scored yet</text>""");
            return svg.Append("</svg>").ToString();
        }

        var min = points.Min(p => p.Value);
        var max = points.Max(p => p.Value);
        if (max - min < 1e-12)
        {
            (min, max) = (min - 0.5, max + 0.5);
        }

        double X(int i) => points.Count == 1 ? (x0 + x1) / 2.0 : x0 + ((x1 - x0) * i / (points.Count - 1.0));
        double Y(double v) => y0 - ((y0 - y1) * (v - min) / (max - min));
        foreach (var v in new[] { min, (min + max) / 2, max })
        {
            var y = Y(v);
            svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{x0}" y1="{y:0.#}" x2="{x1}" y2="{y:0.#}" stroke="#ddd"/><text x="{x0 - 6}" y="{y + 4:0.#}" text-anchor="end">{v:0.####}</text>""");
        }

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

        return svg.Append("</svg>").ToString();
    }
}
