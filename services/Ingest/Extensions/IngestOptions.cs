using System.ComponentModel.DataAnnotations;

namespace Ctm.Ingest.Extensions;

/// <summary>Ingest's settings, from the <c>Ingest</c> section.</summary>
public sealed class IngestOptions
{
    public const string Section = "Ingest";

    /// <summary>Uploads larger than this are refused with 413.</summary>
    [Range(1024, long.MaxValue)]
    public long MaxUploadBytes { get; set; } = 256L * 1024 * 1024;

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
}
