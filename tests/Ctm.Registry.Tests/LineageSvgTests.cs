using System.Xml.Linq;
using Ctm.Registry.Lineage;

namespace Ctm.Registry.Tests;

public sealed class LineageSvgTests
{
    [Fact]
    public void Render_MarksTaintedCorruptAndServing_AndIsWellFormedXml()
    {
        var (a, b) = (Guid.NewGuid(), Guid.NewGuid());
        var svg = LineageSvg.Render("churn <&>", [
            new SvgVersion(1, null, false, "trained", [a], "accuracy 0.8"),
            new SvgVersion(2, 1, true, "trained", [a, b], null) { TaintedBy = [a, b] },
            new SvgVersion(3, null, false, "external", [], null),
        ], [new SvgBatch(a, BatchState.Accepted), new SvgBatch(b, BatchState.Corrupt)], serving: 1);

        var doc = XDocument.Parse(svg);
        XNamespace ns = "http://www.w3.org/2000/svg";
        var groups = doc.Descendants(ns + "g").Select(g => (string?)g.Attribute("class")).ToList();
        Assert.Contains("version serving", groups);
        Assert.Contains("version tainted", groups);
        Assert.Contains("version external", groups);
        Assert.Contains("batch corrupt", groups);
        Assert.Single(doc.Descendants(ns + "line"), l => (string?)l.Attribute("class") == "warm-start");
        Assert.Contains("churn &lt;&amp;&gt;", svg, StringComparison.Ordinal);
        // A version tainted by several batches names them (by their varying end) in its tooltip.
        var title = doc.Descendants(ns + "g").Single(g => (string?)g.Attribute("id") == "v2").Element(ns + "title")!.Value;
        Assert.Contains($"tainted by batches {a.ToString()[^8..]}, {b.ToString()[^8..]}", title, StringComparison.Ordinal);
    }
}
