using System.Globalization;
using System.Text;
using Ctm.Data.Charts;
using Ctm.Data.Statistics;

namespace Ctm.Data.Drift;

/// <summary>One feature's panel in a <see cref="DriftChart"/>: the reference (window or baseline) against the current sample.</summary>
/// <param name="Feature">The feature's name.</param>
/// <param name="Reference">Statistics of the reference (the recent accepted window, or a training baseline).</param>
/// <param name="Current">Statistics of the current batch (or of serving).</param>
/// <param name="Result">The comparison, or null when either side had too few values.</param>
/// <param name="Flagged">True when the comparison was an anomaly.</param>
public sealed record DriftPanel(string Feature, ColumnStatistics Reference, ColumnStatistics Current, DriftResult? Result, bool Flagged);

/// <summary>
/// Draws reference and current distributions of each feature as an SVG picture: numeric features as histograms
/// on shared bins (the reference filled grey, the current outlined), categorical features as paired bars of the
/// most frequent values. Proportions, not counts, so samples of different sizes compare.
/// </summary>
public static class DriftChart
{
    private const int Width = 720;
    private const int PanelHeight = 190;
    private const int Left = 56;
    private const int Right = 16;
    private const int Top = 34;
    private const int Header = 52; // title and legend lines
    private const int PlotHeight = 110;
    private const int NumericBins = 24;
    private const int MaxCategories = 12;
    private const string ReferenceFill = "#b8c2cc";
    private const string CurrentStroke = "#d9480f";

    /// <summary>An SVG document with one panel per feature.</summary>
    /// <param name="title">A title line, e.g. the batch id and what it is compared with.</param>
    /// <param name="panels">The features to draw.</param>
    /// <param name="flag">The word that marks a flagged feature (e.g. SKEWED for serving against a baseline).</param>
    public static string Render(string title, IReadOnlyList<DriftPanel> panels, string flag = "DRIFTED")
    {
        ArgumentNullException.ThrowIfNull(panels);
        var height = Header + (Math.Max(1, panels.Count) * PanelHeight);
        var svg = SvgWriter.Start(Width, height, fontSize: 11).Append('\n');
        svg.Append(F($"<rect width=\"{Width}\" height=\"{height}\" fill=\"white\"/>\n"));
        svg.Append(F($"<text x=\"{Left}\" y=\"18\" font-size=\"13\" font-weight=\"bold\">{Escape(title)}</text>\n"));
        // The legend has a line of its own, so a long title never runs into it.
        svg.Append(F($"<rect x=\"{Left}\" y=\"27\" width=\"12\" height=\"12\" fill=\"{ReferenceFill}\"/><text x=\"{Left + 16}\" y=\"37\">reference</text>"));
        svg.Append(F($"<rect x=\"{Left + 90}\" y=\"27\" width=\"12\" height=\"12\" fill=\"none\" stroke=\"{CurrentStroke}\" stroke-width=\"2\"/><text x=\"{Left + 106}\" y=\"37\">current</text>\n"));
        if (panels.Count == 0)
        {
            svg.Append(F($"<text x=\"{Left}\" y=\"{Header + (PanelHeight / 2)}\">No feature has both a reference and a current sample.</text>\n"));
        }

        for (var i = 0; i < panels.Count; i++)
        {
            DrawPanel(svg, panels[i], Header + (i * PanelHeight), flag);
        }

        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static void DrawPanel(StringBuilder svg, DriftPanel panel, int y0, string flag)
    {
        var heading = panel.Result is { } r
            ? F($"{panel.Feature} — {r.Measure} {r.Distance:0.####}, p = {r.PValue:0.##E+0}, n = {r.ReferenceCount} vs {r.CurrentCount}{(panel.Flagged ? " — " + flag : "")}")
            : F($"{panel.Feature} — too few values to compare");
        svg.Append(F($"<text x=\"{Left}\" y=\"{y0 + 18}\" font-size=\"12\" font-weight=\"bold\" fill=\"{(panel.Flagged ? "#c92a2a" : "#212529")}\">{Escape(heading)}</text>\n"));

        var (labels, reference, current) = panel.Reference.Numeric is { } rn && panel.Current.Numeric is { } cn
            ? NumericBars(rn, cn)
            : panel.Reference.Categorical is { } rc && panel.Current.Categorical is { } cc
                ? CategoricalBars(rc, cc)
                : ([], [], []);
        var plotTop = y0 + Top;
        var plotWidth = Width - Left - Right;
        svg.Append(F($"<line x1=\"{Left}\" y1=\"{plotTop + PlotHeight}\" x2=\"{Width - Right}\" y2=\"{plotTop + PlotHeight}\" stroke=\"#495057\"/>\n"));
        if (labels.Length == 0)
        {
            return;
        }

        var max = Math.Max(1e-12, Math.Max(reference.Max(), current.Max()));
        svg.Append(F($"<text x=\"{Left - 6}\" y=\"{plotTop + 4}\" text-anchor=\"end\">{max:P0}</text><text x=\"{Left - 6}\" y=\"{plotTop + PlotHeight}\" text-anchor=\"end\">0</text>\n"));
        var slot = (double)plotWidth / labels.Length;
        var numeric = panel.Reference.Numeric is not null;
        for (var j = 0; j < labels.Length; j++)
        {
            var x = Left + (j * slot);
            var hr = reference[j] / max * PlotHeight;
            var hc = current[j] / max * PlotHeight;
            if (numeric)
            {
                svg.Append(F($"<rect x=\"{x:0.#}\" y=\"{plotTop + PlotHeight - hr:0.#}\" width=\"{slot:0.#}\" height=\"{hr:0.#}\" fill=\"{ReferenceFill}\"><title>{Escape(labels[j])}: reference {reference[j]:P1}</title></rect>"));
                svg.Append(F($"<rect x=\"{x + 1:0.#}\" y=\"{plotTop + PlotHeight - hc:0.#}\" width=\"{slot - 2:0.#}\" height=\"{hc:0.#}\" fill=\"none\" stroke=\"{CurrentStroke}\" stroke-width=\"2\"><title>{Escape(labels[j])}: current {current[j]:P1}</title></rect>\n"));
            }
            else
            {
                var w = (slot - 6) / 2;
                svg.Append(F($"<rect x=\"{x + 2:0.#}\" y=\"{plotTop + PlotHeight - hr:0.#}\" width=\"{w:0.#}\" height=\"{hr:0.#}\" fill=\"{ReferenceFill}\"><title>{Escape(labels[j])}: reference {reference[j]:P1}</title></rect>"));
                svg.Append(F($"<rect x=\"{x + 2 + w:0.#}\" y=\"{plotTop + PlotHeight - hc:0.#}\" width=\"{w:0.#}\" height=\"{hc:0.#}\" fill=\"none\" stroke=\"{CurrentStroke}\" stroke-width=\"2\"><title>{Escape(labels[j])}: current {current[j]:P1}</title></rect>"));
                var label = labels[j].Length > 12 ? labels[j][..11] + "…" : labels[j];
                svg.Append(F($"<text x=\"{x + (slot / 2):0.#}\" y=\"{plotTop + PlotHeight + 14}\" text-anchor=\"middle\">{Escape(label)}</text>\n"));
            }
        }

        if (numeric)
        {
            svg.Append(F($"<text x=\"{Left}\" y=\"{plotTop + PlotHeight + 14}\">{Escape(labels[0].Split(' ')[0])}</text>"));
            svg.Append(F($"<text x=\"{Width - Right}\" y=\"{plotTop + PlotHeight + 14}\" text-anchor=\"end\">{Escape(labels[^1].Split(' ')[^1])}</text>\n"));
        }
    }

    private static (string[] Labels, double[] Reference, double[] Current) NumericBars(NumericStatistics reference, NumericStatistics current)
    {
        if (reference.Count == 0 || current.Count == 0)
        {
            return ([], [], []);
        }

        var (low, width) = SharedBins.NumericRange(current, reference, NumericBins);
        var labels = new string[NumericBins];
        for (var j = 0; j < NumericBins; j++)
        {
            labels[j] = F($"{low + (j * width):G4} – {low + ((j + 1) * width):G4}");
        }

        return (labels, SharedBins.Proportions(reference.Sketch, low, width, NumericBins), SharedBins.Proportions(current.Sketch, low, width, NumericBins));
    }

    private static (string[] Labels, double[] Reference, double[] Current) CategoricalBars(CategoricalStatistics reference, CategoricalStatistics current)
    {
        if (reference.Count == 0 || current.Count == 0)
        {
            return ([], [], []);
        }

        var keys = SharedBins.TopCategories(current, reference, MaxCategories);
        return (keys, [.. keys.Select(k => SharedBins.Share(reference, k))], [.. keys.Select(k => SharedBins.Share(current, k))]);
    }

    private static string Escape(string text) => SvgWriter.Escape(text);

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
