using System.ComponentModel.DataAnnotations;

namespace Ctm.Registry.Console;

/// <summary>The console page's settings, section <c>Console</c>.</summary>
public sealed class ConsoleOptions
{
    public const string Section = "Console";

    /// <summary>How often the event stream looks at the Registry's tables for a change (the page updates within this).</summary>
    [Range(100, 60_000)]
    public int PollMilliseconds { get; set; } = 1000;
}
