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

        var svg = SvgWriter.Start(width, height, fontSize: 12).Append('\n');
        svg.Append("""<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>""").Append('\n');
        svg.Append(CultureInfo.InvariantCulture, $"""<title>Lineage of {Esc(dataset)}</title><text x="20" y="28" font-size="16" font-weight="bold">Lineage of {Esc(dataset)}</text>""").Append('\n');

        foreach (var (version, ids) in stacks)
        {
            var x = 20 + (column[version] * (VersionWidth + Gap)) + ((VersionWidth - BatchWidth) / 2);
            for (var i = 0; i < ids.Count; i++)
            {
                var y = batchTop + (i * (BatchHeight + 10));
                var known = status.TryGetValue(ids[i], out var state);
                var s = known ? EnumText<BatchState>.Name(state) : "unknown";
                var corrupt = known && state == BatchState.Corrupt;
                svg.Append(CultureInfo.InvariantCulture, $"""<g class="batch{(corrupt ? " corrupt" : "")}"><title>batch {ids[i]} ({Esc(s)})</title><rect x="{x}" y="{y}" width="{BatchWidth}" height="{BatchHeight}" rx="4" fill="{(corrupt ? "#f8d0d0" : "#eef2f7")}" stroke="{(corrupt ? "#c00" : "#8896a8")}"/>""");
                svg.Append(CultureInfo.InvariantCulture, $"""<text x="{x + 6}" y="{y + 13}">{ids[i].ToString()[^8..]}</text><text x="{x + 6}" y="{y + 26}" font-size="10" fill="{(corrupt ? "#c00" : "#555")}">{Esc(s)}</text></g>""").Append('\n');
            }

            var vx = 20 + (column[version] * (VersionWidth + Gap)) + (VersionWidth / 2);
            var lastY = batchTop + ((ids.Count - 1) * (BatchHeight + 10)) + BatchHeight;
            svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{vx}" y1="{lastY}" x2="{vx}" y2="{versionTop}" stroke="#8896a8" stroke-dasharray="4 3" marker-end="url(#arrow)"/>""").Append('\n');
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
                    svg.Append(CultureInfo.InvariantCulture, $"""<line class="warm-start" x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="#555" stroke-width="1.5" marker-end="url(#arrow)"/>""").Append('\n');
                }
                else
                {
                    var bottom = versionTop + VersionHeight;
                    svg.Append(CultureInfo.InvariantCulture, $"""<path class="warm-start" d="M {x1 - (VersionWidth / 2)} {bottom} C {x1 - (VersionWidth / 2)} {bottom + 40}, {x2 + (VersionWidth / 2)} {bottom + 40}, {x2 + (VersionWidth / 2)} {bottom}" fill="none" stroke="#555" stroke-width="1.5" marker-end="url(#arrow)"/>""").Append('\n');
                }
            }
        }

        foreach (var v in ordered)
        {
            var x = 20 + (column[v.Version] * (VersionWidth + Gap));
            var isServing = v.Version == serving;
            var fill = v.Tainted ? "#f8d0d0" : isServing ? "#d7f5dd" : "#ffffff";
            var stroke = isServing ? "#1a8f3a" : v.Tainted ? "#c00" : "#333";
            var classes = "version" + (v.Tainted ? " tainted" : "") + (isServing ? " serving" : "") + (v.Origin == "external" ? " external" : "");
            svg.Append(CultureInfo.InvariantCulture, $"""<g class="{classes}" id="v{v.Version}"><title>v{v.Version} ({Esc(v.Origin)}{(v.Tainted ? ", tainted" + TaintedByText(v.TaintedBy) : "")}{(isServing ? ", serving" : "")}), {v.Batches.Count} batches</title>""");
            svg.Append(CultureInfo.InvariantCulture, $"""<rect x="{x}" y="{versionTop}" width="{VersionWidth}" height="{VersionHeight}" rx="8" fill="{fill}" stroke="{stroke}" stroke-width="{(isServing ? 4 : 1.5)}"{(v.Origin == "external" ? " stroke-dasharray=\"6 3\"" : "")}/>""");
            svg.Append(CultureInfo.InvariantCulture, $"""<text x="{x + 10}" y="{versionTop + 20}" font-size="14" font-weight="bold" fill="{(v.Tainted ? "#c00" : "#111")}">v{v.Version}{(isServing ? " ● serving" : "")}</text>""");
            var line2 = v.Tainted ? "tainted" : v.Origin;
            svg.Append(CultureInfo.InvariantCulture, $"""<text x="{x + 10}" y="{versionTop + 36}" font-size="10" fill="#555">{Esc(line2)} · {v.Batches.Count} batches</text>""");
            if (v.Metric is not null)
            {
                svg.Append(CultureInfo.InvariantCulture, $"""<text x="{x + 10}" y="{versionTop + 49}" font-size="10" fill="#555">{Esc(v.Metric)}</text>""");
            }

            svg.Append("</g>\n");
        }

        var legendY = height - 20;
        svg.Append(CultureInfo.InvariantCulture, $"""<g class="legend" font-size="11"><rect x="20" y="{legendY - 10}" width="12" height="12" fill="#d7f5dd" stroke="#1a8f3a" stroke-width="3"/><text x="38" y="{legendY}">serving</text><rect x="100" y="{legendY - 10}" width="12" height="12" fill="#f8d0d0" stroke="#c00"/><text x="118" y="{legendY}">tainted / corrupt</text><line x1="230" y1="{legendY - 4}" x2="260" y2="{legendY - 4}" stroke="#555" marker-end="url(#arrow)"/><text x="266" y="{legendY}">warm start</text><line x1="340" y1="{legendY - 4}" x2="370" y2="{legendY - 4}" stroke="#8896a8" stroke-dasharray="4 3"/><text x="376" y="{legendY}">first trained on</text></g>""").Append('\n');
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static string Esc(string s) => SvgWriter.Escape(s);

    private static string TaintedByText(IReadOnlyList<Guid>? batches) =>
        batches is { Count: > 0 } by ? $" by batch{(by.Count > 1 ? "es" : "")} {string.Join(", ", by.Select(b => b.ToString()[^8..]))}" : string.Empty;
}
