using System.Globalization;
using System.Security;
using System.Text;

namespace Ctm.Trainer.Apis;

/// <summary>Draws a run's loss curve (mean training loss per epoch) as a self-contained SVG line chart.</summary>
public static class LossCurveSvg
{
    private const int Width = 640, Height = 320, Left = 64, Right = 16, Top = 32, Bottom = 44;

    public static string Render(IReadOnlyList<double> curve, string title)
    {
        var points = curve.Select((loss, i) => (Epoch: i + 1, Loss: loss)).Where(p => double.IsFinite(p.Loss)).ToList();
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{Width}" height="{Height}" viewBox="0 0 {Width} {Height}" font-family="sans-serif" font-size="12">""");
        svg.Append(CultureInfo.InvariantCulture, $"""<rect width="{Width}" height="{Height}" fill="white"/>""");
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{Width / 2}" y="20" text-anchor="middle" font-size="14">{SecurityElement.Escape(title)}</text>""");
        var (x0, x1, y0, y1) = (Left, Width - Right, Height - Bottom, Top);
        svg.Append(CultureInfo.InvariantCulture, $"""<path d="M{x0} {y1} V{y0} H{x1}" stroke="black" fill="none"/>""");
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{(x0 + x1) / 2}" y="{Height - 8}" text-anchor="middle">epoch</text>""");
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="14" y="{(y0 + y1) / 2}" text-anchor="middle" transform="rotate(-90 14 {(y0 + y1) / 2})">training loss</text>""");
        if (points.Count == 0)
        {
            svg.Append(CultureInfo.InvariantCulture, $"""<text x="{(x0 + x1) / 2}" y="{(y0 + y1) / 2}" text-anchor="middle">no loss recorded</text>""");
            return svg.Append("</svg>").ToString();
        }

        var min = points.Min(p => p.Loss);
        var max = points.Max(p => p.Loss);
        if (max - min < 1e-12)
        {
            (min, max) = (min - 0.5, max + 0.5);
        }

        var last = points[^1].Epoch;
        double X(int epoch) => last == 1 ? (x0 + x1) / 2.0 : x0 + ((x1 - x0) * (epoch - 1.0) / (last - 1));
        double Y(double loss) => y0 - ((y0 - y1) * (loss - min) / (max - min));
        foreach (var (value, label) in new[] { (min, Format(min)), ((min + max) / 2, Format((min + max) / 2)), (max, Format(max)) })
        {
            var y = Y(value);
            svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{x0}" y1="{y:0.#}" x2="{x1}" y2="{y:0.#}" stroke="#ddd"/><text x="{x0 - 6}" y="{y + 4:0.#}" text-anchor="end">{label}</text>""");
        }

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

        return svg.Append("</svg>").ToString();
    }

    private static string Format(double v) => v.ToString(Math.Abs(v) >= 100 ? "0" : "0.####", CultureInfo.InvariantCulture);
}
