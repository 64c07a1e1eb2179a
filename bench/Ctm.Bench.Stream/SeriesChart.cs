using System.Globalization;
using System.Security;
using System.Text;

namespace Ctm.Bench.Stream;

/// <summary>One line of the chart: a model's per-batch values (NaN where not evaluated).</summary>
public sealed record ChartSeries(string Name, string Color, double[] Metric, double[] LogLoss);

/// <summary>A span of consecutive corrupt batches.</summary>
public sealed record ShadedSpan(string Kind, int First, int Last);

/// <summary>
/// The per-batch picture: the headline metric and the log loss of each model over the batches, the Validator's
/// decision for every batch as a strip between the panels, corruption spans shaded behind both panels, and the batch
/// a late class first appears marked. Plain SVG text; every point has a tooltip with its value.
/// </summary>
public static class SeriesChart
{
    private const int Width = 960;
    private const int Left = 64;
    private const int Right = 150; // legend column
    private const int PanelHeight = 220;
    private const int StripHeight = 16;
    private const double LogLossCap = 3;
    private const string CorruptionFill = "#ffe3e3";
    private const string Quarantined = "#e03131";
    private const string Accepted = "#40c057";

    public static string Render(
        string title, string metricName, int batches, IReadOnlyList<ChartSeries> series, IReadOnlyList<ShadedSpan> spans,
        IReadOnlyList<string> decisions, int? lateClassBatch, string? lateClass)
    {
        var plotWidth = Width - Left - Right;
        var metricTop = 50;
        var stripTop = metricTop + PanelHeight + 26;
        var lossTop = stripTop + StripHeight + 34;
        var height = lossTop + PanelHeight + 44;
        double X(double b) => Left + ((b + 0.5) * plotWidth / Math.Max(1, batches));
        var svg = new StringBuilder();
        svg.Append(F($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{height}\" viewBox=\"0 0 {Width} {height}\" font-family=\"sans-serif\" font-size=\"11\">\n"));
        svg.Append(F($"<rect width=\"{Width}\" height=\"{height}\" fill=\"white\"/>\n"));
        svg.Append(F($"<text x=\"{Left}\" y=\"20\" font-size=\"14\" font-weight=\"bold\">{Escape(title)}</text>\n"));
        svg.Append(F($"<text x=\"{Left}\" y=\"38\" fill=\"#495057\">Each batch is predicted by the model serving before it arrives (test-then-train); shaded: injected corruption.</text>\n"));

        // Corruption spans behind everything, across both panels and the strip.
        foreach (var span in spans)
        {
            var x0 = X(span.First - 0.5);
            var x1 = X(span.Last + 0.5);
            svg.Append(F($"<rect x=\"{x0:0.#}\" y=\"{metricTop}\" width=\"{x1 - x0:0.#}\" height=\"{lossTop + PanelHeight - metricTop}\" fill=\"{CorruptionFill}\"><title>{Escape(span.Kind)}: batches {span.First}–{span.Last}</title></rect>\n"));
            svg.Append(F($"<text x=\"{(x0 + x1) / 2:0.#}\" y=\"{metricTop + 12}\" text-anchor=\"middle\" fill=\"#c92a2a\">{Escape(span.Kind)}</text>\n"));
        }

        if (lateClassBatch is { } late)
        {
            var x = X(late - 0.5);
            svg.Append(F($"<line x1=\"{x:0.#}\" y1=\"{metricTop}\" x2=\"{x:0.#}\" y2=\"{lossTop + PanelHeight}\" stroke=\"#7048e8\" stroke-dasharray=\"5,4\"/>"));
            svg.Append(F($"<text x=\"{x + 4:0.#}\" y=\"{metricTop + 26}\" fill=\"#7048e8\">'{Escape(lateClass ?? "")}' first seen (batch {late})</text>\n"));
        }

        var metricValues = series.SelectMany(s => s.Metric).Where(double.IsFinite).ToList();
        var low = metricValues.Count == 0 ? 0 : Math.Max(0, Math.Floor((metricValues.Min() - 0.01) * 20) / 20);
        var high = metricValues.Count == 0 ? 1 : Math.Min(1, Math.Ceiling((metricValues.Max() + 0.01) * 20) / 20);
        Panel(svg, series, s => s.Metric, metricName, metricTop, low, high, X, plotWidth, cap: null);

        var lossValues = series.SelectMany(s => s.LogLoss).Where(double.IsFinite).ToList();
        var lossHigh = lossValues.Count == 0 ? 1 : Math.Min(LogLossCap, Math.Ceiling(lossValues.Max() * 10) / 10);
        Panel(svg, series, s => s.LogLoss, lossValues.Any(v => v > LogLossCap) ? $"log loss (cut at {LogLossCap}; ▲ above)" : "log loss", lossTop, 0, lossHigh, X, plotWidth, cap: lossHigh);

        // The Validator's decision per batch.
        svg.Append(F($"<text x=\"{Left - 6}\" y=\"{stripTop + 12}\" text-anchor=\"end\">Validator</text>\n"));
        for (var b = 0; b < decisions.Count; b++)
        {
            var color = decisions[b] switch { "accepted" or "released" => Accepted, "quarantined" => Quarantined, _ => "#adb5bd" };
            var w = Math.Max(1, (plotWidth / (double)Math.Max(1, batches)) - 1);
            svg.Append(F($"<rect x=\"{X(b) - (w / 2):0.#}\" y=\"{stripTop}\" width=\"{w:0.#}\" height=\"{StripHeight}\" fill=\"{color}\"><title>batch {b}: {Escape(decisions[b])}</title></rect>"));
        }

        svg.Append(F($"\n<rect x=\"{Left}\" y=\"{stripTop + StripHeight + 6}\" width=\"10\" height=\"10\" fill=\"{Accepted}\"/><text x=\"{Left + 14}\" y=\"{stripTop + StripHeight + 15}\">accepted</text>"));
        svg.Append(F($"<rect x=\"{Left + 80}\" y=\"{stripTop + StripHeight + 6}\" width=\"10\" height=\"10\" fill=\"{Quarantined}\"/><text x=\"{Left + 94}\" y=\"{stripTop + StripHeight + 15}\">quarantined</text>\n"));

        // Batch axis under the log-loss panel.
        var step = Math.Max(1, (int)Math.Ceiling(batches / 20.0 / 5) * 5);
        for (var b = 0; b < batches; b += step)
        {
            svg.Append(F($"<text x=\"{X(b):0.#}\" y=\"{lossTop + PanelHeight + 16}\" text-anchor=\"middle\">{b}</text>"));
        }

        svg.Append(F($"\n<text x=\"{Left + (plotWidth / 2)}\" y=\"{lossTop + PanelHeight + 34}\" text-anchor=\"middle\">batch (time order)</text>\n"));

        // Legend.
        for (var i = 0; i < series.Count; i++)
        {
            var y = metricTop + 20 + (i * 20);
            svg.Append(F($"<line x1=\"{Width - Right + 14}\" y1=\"{y - 4}\" x2=\"{Width - Right + 38}\" y2=\"{y - 4}\" stroke=\"{series[i].Color}\" stroke-width=\"2.5\"/><text x=\"{Width - Right + 44}\" y=\"{y}\">{Escape(series[i].Name)}</text>\n"));
        }

        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static void Panel(
        StringBuilder svg, IReadOnlyList<ChartSeries> series, Func<ChartSeries, double[]> values, string label, int top, double low, double high,
        Func<double, double> x, int plotWidth, double? cap)
    {
        if (!(high > low))
        {
            high = low + 1;
        }

        double Y(double v) => top + PanelHeight - ((Math.Clamp(v, low, high) - low) / (high - low) * PanelHeight);
        svg.Append(F($"<rect x=\"{Left}\" y=\"{top}\" width=\"{plotWidth}\" height=\"{PanelHeight}\" fill=\"none\" stroke=\"#868e96\"/>\n"));
        // A round step that gives at most six intervals, so tick labels are short and exact.
        var step = new[] { 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10 }.FirstOrDefault(s => (high - low) / s <= 6, 10);
        for (var v = Math.Ceiling(low / step) * step; v <= high + 1e-9; v += step)
        {
            svg.Append(F($"<line x1=\"{Left}\" y1=\"{Y(v):0.#}\" x2=\"{Left + plotWidth}\" y2=\"{Y(v):0.#}\" stroke=\"#e9ecef\"/>"));
            svg.Append(F($"<text x=\"{Left - 6}\" y=\"{Y(v) + 4:0.#}\" text-anchor=\"end\">{Math.Round(v, 2).ToString("0.0#", CultureInfo.InvariantCulture)}</text>"));
        }

        svg.Append(F($"\n<text x=\"{Left - 48}\" y=\"{top + (PanelHeight / 2)}\" transform=\"rotate(-90 {Left - 48} {top + (PanelHeight / 2)})\" text-anchor=\"middle\">{Escape(label)}</text>\n"));
        foreach (var s in series)
        {
            var v = values(s);
            // One polyline per run of evaluated batches: a gap (a corrupt batch) is not bridged.
            var points = new List<string>();
            void Flush()
            {
                if (points.Count > 1)
                {
                    svg.Append(F($"<polyline points=\"{string.Join(" ", points)}\" fill=\"none\" stroke=\"{s.Color}\" stroke-width=\"1.8\"/>\n"));
                }

                points.Clear();
            }

            for (var b = 0; b < v.Length; b++)
            {
                if (!double.IsFinite(v[b]))
                {
                    Flush();
                    continue;
                }

                points.Add(F($"{x(b):0.#},{Y(v[b]):0.#}"));
                var over = cap is { } c && v[b] > c;
                svg.Append(over
                    ? F($"<text x=\"{x(b):0.#}\" y=\"{top + 10}\" text-anchor=\"middle\" fill=\"{s.Color}\">▲<title>{Escape(s.Name)}, batch {b}: {v[b]:0.###}</title></text>")
                    : F($"<circle cx=\"{x(b):0.#}\" cy=\"{Y(v[b]):0.#}\" r=\"2.2\" fill=\"{s.Color}\"><title>{Escape(s.Name)}, batch {b}: {v[b]:0.###}</title></circle>"));
            }

            Flush();
        }
    }

    private static string Escape(string text) => SecurityElement.Escape(text) ?? string.Empty;

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
