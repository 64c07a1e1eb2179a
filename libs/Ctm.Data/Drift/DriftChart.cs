using System.Globalization;
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
    private static readonly SvgPaint Reference = new("#b8c2cc");
    private static readonly SvgPaint Current = new("none", "#d9480f", 2);

    /// <summary>An SVG document with one panel per feature.</summary>
    /// <param name="title">A title line, e.g. the batch id and what it is compared with.</param>
    /// <param name="panels">The features to draw.</param>
    /// <param name="flag">The word that marks a flagged feature (e.g. SKEWED for serving against a baseline).</param>
    public static string Render(string title, IReadOnlyList<DriftPanel> panels, string flag = "DRIFTED")
    {
        ArgumentNullException.ThrowIfNull(panels);
        var svg = new SvgWriter(Width, Header + (Math.Max(1, panels.Count) * PanelHeight), fontSize: 11, background: "white").NewLine()
            .Text(Left, 18, title, new SvgFont(Size: 13, Bold: true)).NewLine()
            // The legend has a line of its own, so a long title never runs into it.
            .Legend(Left, 37, [new SvgLegendEntry("reference", Reference, 90), new SvgLegendEntry("current", Current, 90)]).NewLine();
        if (panels.Count == 0)
        {
            svg.Text(Left, Header + (PanelHeight / 2), "No feature has both a reference and a current sample.").NewLine();
        }

        for (var i = 0; i < panels.Count; i++)
        {
            DrawPanel(svg, panels[i], Header + (i * PanelHeight), flag);
        }

        return svg.Finish();
    }

    private static void DrawPanel(SvgWriter svg, DriftPanel panel, int y0, string flag)
    {
        var heading = panel.Result is { } r
            ? F($"{panel.Feature} — {r.Measure} {r.Distance:0.####}, p = {r.PValue:0.##E+0}, n = {r.ReferenceCount} vs {r.CurrentCount}{(panel.Flagged ? " — " + flag : "")}")
            : F($"{panel.Feature} — too few values to compare");
        svg.Text(Left, y0 + 18, heading, new SvgFont(Size: 12, Bold: true, Fill: panel.Flagged ? "#c92a2a" : "#212529")).NewLine();

        var (labels, reference, current) = panel.Reference.Numeric is { } rn && panel.Current.Numeric is { } cn
            ? NumericBars(rn, cn)
            : panel.Reference.Categorical is { } rc && panel.Current.Categorical is { } cc
                ? CategoricalBars(rc, cc)
                : ([], [], []);
        var plotTop = y0 + Top;
        var baseline = plotTop + PlotHeight;
        svg.Line(Left, baseline, Width - Right, baseline, new SvgPaint(Stroke: "#495057")).NewLine();
        if (labels.Length == 0)
        {
            return;
        }

        var max = Math.Max(1e-12, Math.Max(reference.Max(), current.Max()));
        var share = new SvgScale(0, max, baseline, plotTop);
        svg.Text(Left - 6, plotTop + 4, F($"{max:P0}"), new SvgFont("end")).Text(Left - 6, baseline, "0", new SvgFont("end")).NewLine();
        var slot = (double)(Width - Left - Right) / labels.Length;
        var numeric = panel.Reference.Numeric is not null;
        for (var j = 0; j < labels.Length; j++)
        {
            var x = Left + (j * slot);
            var (referenceTitle, currentTitle) = (F($"{labels[j]}: reference {reference[j]:P1}"), F($"{labels[j]}: current {current[j]:P1}"));
            if (numeric)
            {
                // Histograms on shared bins: the reference filled, the current outlined just inside it.
                svg.Bar(x, slot, reference[j], share, Reference, referenceTitle).Bar(x + 1, slot - 2, current[j], share, Current, currentTitle).NewLine();
            }
            else
            {
                var w = (slot - 6) / 2;
                var label = labels[j].Length > 12 ? labels[j][..11] + "…" : labels[j];
                svg.Bar(x + 2, w, reference[j], share, Reference, referenceTitle).Bar(x + 2 + w, w, current[j], share, Current, currentTitle)
                    .Text(x + (slot / 2), baseline + 14, label, new SvgFont("middle")).NewLine();
            }
        }

        if (numeric)
        {
            svg.Text(Left, baseline + 14, labels[0].Split(' ')[0]).Text(Width - Right, baseline + 14, labels[^1].Split(' ')[^1], new SvgFont("end")).NewLine();
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

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
