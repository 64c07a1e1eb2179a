using System.Globalization;
using Ctm.Data.Charts;

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
        if (points.Count == 0)
        {
            return chart.Empty("no labeled batch scored yet");
        }

        chart.ValueAxis(points.Min(p => p.Value), points.Max(p => p.Value), v => v.ToString("0.####", CultureInfo.InvariantCulture));
        var x = chart.Positions(0, points.Count - 1);
        for (var i = 0; i < points.Count; i++)
        {
            if (i == 0 || points[i].Version != points[i - 1].Version)
            {
                var label = i > 0 && points[i].Version < points[i - 1].Version ? $"rollback to v{points[i].Version}" : $"v{points[i].Version}";
                chart.Svg.Line(x.Map(i), chart.Y1 - 6, x.Map(i), chart.Y0, new SvgPaint(Stroke: "#999", Dash: "4 3"))
                    .Text(x.Map(i) + 3, chart.Y1 - 8, label, new SvgFont(Size: 10));
            }
        }

        chart.Series([.. points.Select((p, i) => (x.Map(i), chart.Y(p.Value),
            string.Create(CultureInfo.InvariantCulture, $"batch #{p.Seq}, v{p.Version}: {p.Value:0.#####}{(p.Alert ? " (alarm)" : "")}"), p.Alert))], strokeWidth: 1.5);
        return chart.Finish();
    }
}
