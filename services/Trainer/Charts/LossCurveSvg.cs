using System.Globalization;
using Ctm.Data.Charts;

namespace Ctm.Trainer.Charts;

/// <summary>Draws a run's loss curve (mean training loss per epoch) as a self-contained SVG line chart.</summary>
public static class LossCurveSvg
{
    private const int Width = 640, Height = 320, Top = 32;

    public static string Render(IReadOnlyList<double> curve, string title)
    {
        var points = curve.Select((loss, i) => (Epoch: i + 1, Loss: loss)).Where(p => double.IsFinite(p.Loss)).ToList();
        var chart = new SvgChart(Width, Height, Top, title, "epoch", "training loss");
        if (points.Count == 0)
        {
            return chart.Empty("no loss recorded");
        }

        chart.ValueAxis(points.Min(p => p.Loss), points.Max(p => p.Loss), Format);
        var last = points[^1].Epoch;
        var x = chart.Positions(1, last);
        foreach (var epoch in new[] { 1, (1 + last) / 2, last }.Distinct())
        {
            chart.Svg.Text(x.Map(epoch), chart.Y0 + 16, epoch.ToString(CultureInfo.InvariantCulture), new SvgFont("middle"));
        }

        chart.Series([.. points.Select(p => (x.Map(p.Epoch), chart.Y(p.Loss), string.Create(CultureInfo.InvariantCulture, $"epoch {p.Epoch}: {p.Loss:0.#####}"), false))], strokeWidth: 2);
        return chart.Finish();
    }

    private static string Format(double v) => v.ToString(Math.Abs(v) >= 100 ? "0" : "0.####", CultureInfo.InvariantCulture);
}
