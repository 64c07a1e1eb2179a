using System.Xml.Linq;
using Ctm.Data.Drift;
using Ctm.Data.Statistics;

namespace Ctm.Data.Tests.Drift;

public sealed class DriftChartTests
{
    private static ColumnStatistics Column(string name, IEnumerable<string> cells)
    {
        var builder = new StatisticsBuilder([name]);
        foreach (var cell in cells)
        {
            builder.Add(0, cell);
            builder.EndRow();
        }

        return builder.Build().Column(name)!;
    }

    [Fact]
    public void Render_NumericAndCategoricalPanels_WellFormedSvgNamingFeaturesAndFlaggingDrift()
    {
        var random = new Random(5);
        var reference = Column("fee", Enumerable.Range(0, 500).Select(_ => (10 + (random.NextDouble() * 90)).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)));
        var current = Column("fee", Enumerable.Range(0, 500).Select(_ => (10 + (random.NextDouble() * 30)).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)));
        var plansBefore = Column("plan", Enumerable.Range(0, 300).Select(i => i % 3 == 0 ? "basic" : "pro<&>"));
        var plansNow = Column("plan", Enumerable.Range(0, 300).Select(i => i % 3 == 0 ? "basic" : "pro<&>"));
        var fee = DriftDetector.Compare(reference, current);

        var svg = DriftChart.Render("batch 1 vs window", [new DriftPanel("fee", reference, current, fee, true), new DriftPanel("plan", plansBefore, plansNow, DriftDetector.Compare(plansBefore, plansNow), false)]);

        var document = XDocument.Parse(svg);
        Assert.Equal("svg", document.Root!.Name.LocalName);
        Assert.Contains("fee — Jensen-Shannon divergence", svg, StringComparison.Ordinal);
        Assert.Contains("DRIFTED", svg, StringComparison.Ordinal);
        Assert.Contains("pro&lt;&amp;&gt;", svg, StringComparison.Ordinal);
        Assert.True(fee!.Distance > 0.1);
    }
}
