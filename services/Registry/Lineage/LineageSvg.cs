using System.Globalization;
using Ctm.Data.Charts;
using Ctm.ServiceDefaults.Storage;

namespace Ctm.Registry.Lineage;

public sealed record SvgVersion(int Version, int? Parent, bool Tainted, string Origin, IReadOnlyCollection<Guid> Batches, string? Metric)
{
    /// <summary>The corrupt batches that taint it, named in its tooltip.</summary>
    public IReadOnlyList<Guid>? TaintedBy { get; init; }
}

public sealed record SvgBatch(Guid BatchId, BatchState Status);

/// <summary>
/// Draws a dataset's lineage for an operator: versions left to right with warm-start edges, each batch above the first
/// version that trained on it (later versions re-use it), tainted versions and corrupt batches in red, the serving
/// version outlined in green. Pure text out, so it is rendered by the server with no client code.
/// </summary>
public static class LineageSvg
{
    private const int VersionWidth = 120;
    private const int VersionHeight = 54;
    private const int Gap = 40;
    private const int BatchWidth = 110;
    private const int BatchHeight = 30;
    private static readonly SvgPaint Tainted = new("#f8d0d0", "#c00");
    private static readonly SvgPaint Serving = new("#d7f5dd", "#1a8f3a");
    private static readonly SvgPaint WarmStart = new(Stroke: "#555", StrokeWidth: 1.5, ArrowEnd: "arrow");
    private static readonly SvgPaint FirstTrainedOn = new(Stroke: "#8896a8", Dash: "4 3");
    private static readonly SvgFont Small = new(Size: 10, Fill: "#555");

    public static string Render(string dataset, IReadOnlyList<SvgVersion> versions, IReadOnlyList<SvgBatch> batches, int? serving)
    {
        var ordered = versions.OrderBy(v => v.Version).ToList();
        var column = ordered.Select((v, i) => (v.Version, i)).ToDictionary(x => x.Version, x => x.i);
        var status = batches.ToDictionary(b => b.BatchId, b => b.Status);
        // Each batch sits above the first version trained on it.
        var firstUse = new Dictionary<Guid, int>();
        foreach (var v in ordered)
        {
            foreach (var b in v.Batches)
            {
                firstUse.TryAdd(b, v.Version);
            }
        }

        var stacks = firstUse.GroupBy(kv => kv.Value).ToDictionary(g => g.Key, g => g.Select(kv => kv.Key).Order().ToList());
        var maxStack = stacks.Count == 0 ? 0 : stacks.Values.Max(s => s.Count);
        var batchTop = 60;
        var versionTop = batchTop + (maxStack * (BatchHeight + 10)) + 50;
        var width = Math.Max(520, 40 + (Math.Max(1, ordered.Count) * (VersionWidth + Gap)));
        var height = versionTop + VersionHeight + 90;

        var svg = new SvgWriter(width, height, fontSize: 12).NewLine().ArrowMarker("arrow", "#555")
            .Title($"Lineage of {dataset}").Text(20, 28, $"Lineage of {dataset}", new SvgFont(Size: 16, Bold: true)).NewLine();

        foreach (var (version, ids) in stacks)
        {
            var x = 20 + (column[version] * (VersionWidth + Gap)) + ((VersionWidth - BatchWidth) / 2);
            for (var i = 0; i < ids.Count; i++)
            {
                var y = batchTop + (i * (BatchHeight + 10));
                var known = status.TryGetValue(ids[i], out var state);
                var s = known ? EnumText<BatchState>.Name(state) : "unknown";
                var corrupt = known && state == BatchState.Corrupt;
                svg.Group(corrupt ? "batch corrupt" : "batch", title: $"batch {ids[i]} ({s})")
                    .Rect(x, y, BatchWidth, BatchHeight, corrupt ? Tainted : new SvgPaint("#eef2f7", "#8896a8"), radius: 4)
                    .Text(x + 6, y + 13, ids[i].ToString()[^8..]).Text(x + 6, y + 26, s, new SvgFont(Size: 10, Fill: corrupt ? "#c00" : "#555"))
                    .EndGroup().NewLine();
            }

            var vx = 20 + (column[version] * (VersionWidth + Gap)) + (VersionWidth / 2);
            var lastY = batchTop + ((ids.Count - 1) * (BatchHeight + 10)) + BatchHeight;
            svg.Line(vx, lastY, vx, versionTop, FirstTrainedOn with { ArrowEnd = "arrow" }).NewLine();
        }

        foreach (var v in ordered)
        {
            if (v.Parent is { } p && column.TryGetValue(p, out var pc))
            {
                var x1 = 20 + (pc * (VersionWidth + Gap)) + VersionWidth;
                var x2 = 20 + (column[v.Version] * (VersionWidth + Gap));
                var y = versionTop + (VersionHeight / 2);
                // A parent right before its child: a straight arrow; further back: an arc under the row.
                if (column[v.Version] - pc == 1)
                {
                    svg.Line(x1, y, x2, y, WarmStart, "warm-start").NewLine();
                }
                else
                {
                    var bottom = versionTop + VersionHeight;
                    var (from, to) = (x1 - (VersionWidth / 2), x2 + (VersionWidth / 2));
                    svg.Path(string.Create(CultureInfo.InvariantCulture, $"M {from} {bottom} C {from} {bottom + 40}, {to} {bottom + 40}, {to} {bottom}"), WarmStart, "warm-start").NewLine();
                }
            }
        }

        foreach (var v in ordered)
        {
            var x = 20 + (column[v.Version] * (VersionWidth + Gap));
            var isServing = v.Version == serving;
            var fill = v.Tainted ? Tainted.Fill : isServing ? Serving.Fill : "#ffffff";
            var stroke = isServing ? Serving.Stroke : v.Tainted ? Tainted.Stroke : "#333";
            var classes = "version" + (v.Tainted ? " tainted" : "") + (isServing ? " serving" : "") + (v.Origin == "external" ? " external" : "");
            svg.Group(classes, $"v{v.Version}", $"v{v.Version} ({v.Origin}{(v.Tainted ? ", tainted" + TaintedByText(v.TaintedBy) : "")}{(isServing ? ", serving" : "")}), {v.Batches.Count} batches")
                .Rect(x, versionTop, VersionWidth, VersionHeight, new SvgPaint(fill, stroke, isServing ? 4 : 1.5, v.Origin == "external" ? "6 3" : null), radius: 8)
                .Text(x + 10, versionTop + 20, $"v{v.Version}{(isServing ? " ● serving" : "")}", new SvgFont(Size: 14, Bold: true, Fill: v.Tainted ? "#c00" : "#111"))
                .Text(x + 10, versionTop + 36, $"{(v.Tainted ? "tainted" : v.Origin)} · {v.Batches.Count} batches", Small);
            if (v.Metric is not null)
            {
                svg.Text(x + 10, versionTop + 49, v.Metric, Small);
            }

            svg.EndGroup().NewLine();
        }

        return svg.Legend(20, height - 20, [
            new SvgLegendEntry("serving", Serving with { StrokeWidth = 3 }, 80),
            new SvgLegendEntry("tainted / corrupt", Tainted, 130),
            new SvgLegendEntry("warm start", new SvgPaint(Stroke: "#555", ArrowEnd: "arrow"), 110, Line: true),
            new SvgLegendEntry("first trained on", FirstTrainedOn, 110, Line: true),
        ], fontSize: 11).NewLine().Finish();
    }

    private static string TaintedByText(IReadOnlyList<Guid>? batches) =>
        batches is { Count: > 0 } by ? $" by batch{(by.Count > 1 ? "es" : "")} {string.Join(", ", by.Select(b => b.ToString()[^8..]))}" : string.Empty;
}
