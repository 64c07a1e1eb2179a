using System.ComponentModel.DataAnnotations;

namespace Ctm.Registry.Extensions;

/// <summary>Settings of the serving record, from the <c>ServingRecord</c> section.</summary>
public sealed class ServingRecordOptions
{
    public const string Section = "ServingRecord";

    /// <summary>How long an operator's rollback or approval waits, by default, for the live replicas to confirm (0 = answer at once).</summary>
    [Range(0, 300)]
    public int ConfirmWaitSeconds { get; set; } = 10;

    /// <summary>A replica is live while heard from within this many of its report intervals.</summary>
    [Range(2, 100)]
    public int LiveIntervals { get; set; } = 3;
}
