using System.ComponentModel.DataAnnotations;
using Ctm.Data.Parsing;

namespace Ctm.Ingest.Extensions;

/// <summary>Ingest's settings, from the <c>Ingest</c> section.</summary>
public sealed class IngestOptions
{
    public const string Section = "Ingest";

    /// <summary>Uploads larger than this are refused with 413, chunked or not; an upload is spooled to disk, never held in memory.</summary>
    [Range(1024, long.MaxValue)]
    public long MaxUploadBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Where uploads are spooled while they are checked; null: the system's temporary folder.</summary>
    public string? SpoolDirectory { get; set; }

    /// <summary>Bounds on what an upload or a row event may contain.</summary>
    [Required]
    public IngestLimits Limits { get; set; } = new();

    [Required]
    public RowEventOptions RowEvents { get; set; } = new();
}

/// <summary>How row events published on the bus are gathered into batches.</summary>
public sealed class RowEventOptions
{
    /// <summary>The fanout exchange upstream systems publish plain JSON rows to.</summary>
    [Required]
    public string Exchange { get; set; } = "ctm.rows";

    /// <summary>The queue Ingest binds to that exchange.</summary>
    [Required]
    public string Queue { get; set; } = "ingest-row-events";

    /// <summary>A batch is cut when a dataset has this many pending rows...</summary>
    [Range(1, 1_000_000)]
    public int MaxRows { get; set; } = 1000;

    /// <summary>...or when its oldest pending row has waited this long.</summary>
    [Range(0.05, 3600)]
    public double MaxDelaySeconds { get; set; } = 5;

    /// <summary>How long an event id is remembered after it arrived, so a repeat is stored once even after its batch was cut.</summary>
    [Range(0.001, 8760)]
    public double DedupeWindowHours { get; set; } = 24;
}

/// <summary>Bounds on input, from <c>Ingest:Limits</c>: each crossing is refused naming the setting and the position.</summary>
public sealed class IngestLimits
{
    [Range(1, 100_000_000)]
    public int MaxFieldChars { get; set; } = 65_536;

    [Range(1, 100_000)]
    public int MaxColumns { get; set; } = 1_024;

    [Range(1, long.MaxValue)]
    public long MaxRows { get; set; } = 10_000_000;

    /// <summary>The longest CSV record in characters, or JSON Lines line in bytes.</summary>
    [Range(1, 1_000_000_000)]
    public int MaxRecordChars { get; set; } = 4 * 1024 * 1024;

    [Range(1, 256)]
    public int MaxJsonDepth { get; set; } = 64;

    /// <summary>The largest row event taken off the bus (its body), in bytes.</summary>
    [Range(64, 128 * 1024 * 1024)]
    public int MaxEventBytes { get; set; } = 1024 * 1024;

    public TabularLimits ToTabular() => new()
    {
        MaxFieldChars = MaxFieldChars,
        MaxColumns = MaxColumns,
        MaxRows = MaxRows,
        MaxRecordChars = MaxRecordChars,
        MaxJsonDepth = MaxJsonDepth,
    };
}
