using System.ComponentModel.DataAnnotations;

namespace Ctm.Registry.Console;

/// <summary>The console page's settings, section <c>Console</c>.</summary>
public sealed class ConsoleOptions
{
    public const string Section = "Console";

    /// <summary>How often the event stream looks at the Registry's tables for a change (the page updates within this).</summary>
    [Range(100, 60_000)]
    public int PollMilliseconds { get; set; } = 1000;

    /// <summary>How often an open page gets the Predictor replicas' live numbers (each time the Registry asks every replica).</summary>
    [Range(500, 60_000)]
    public int LiveStatsMilliseconds { get; set; } = 2000;

    /// <summary>
    /// Where the Predictor replicas answer (<c>Console:PredictorUrls:0</c>, ...); empty: <c>Services:Predictor</c>. A host
    /// name that resolves to several addresses (a Kubernetes headless Service, a scaled compose service) is asked at
    /// each address, so one name reaches every replica.
    /// </summary>
    public List<Uri> PredictorUrls { get; set; } = [];
}
