using System.Globalization;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace Ctm.Registry.Rollbacks;

/// <summary>
/// Which batches a rollback declares corrupt: the named ones, plus the dataset's batches that match every given filter
/// (ingested in [<see cref="IngestedFrom"/>, <see cref="IngestedTo"/>), from <see cref="Upstream"/>).
/// </summary>
public sealed partial record BatchSelector(IReadOnlyList<Guid> BatchIds, DateTimeOffset? IngestedFrom, DateTimeOffset? IngestedTo, string? Upstream)
{
    public static readonly BatchSelector None = new([], null, null, null);

    /// <summary>From a request's fields; times in UTC (PostgreSQL stores them so), an empty upstream as none.</summary>
    public static BatchSelector Of(Guid? batchId, IEnumerable<Guid>? batchIds, DateTimeOffset? from, DateTimeOffset? to, string? upstream) =>
        new([.. (batchId is { } one ? [one] : Array.Empty<Guid>()).Concat(batchIds ?? []).Distinct()],
            from?.ToUniversalTime(), to?.ToUniversalTime(), string.IsNullOrEmpty(upstream) ? null : upstream);

    [JsonIgnore]
    public bool HasFilter => IngestedFrom is not null || IngestedTo is not null || Upstream is not null;

    [JsonIgnore]
    public bool IsEmpty => BatchIds.Count == 0 && !HasFilter;

    /// <summary>Null when the filters can be used; otherwise why not.</summary>
    public string? Problem() =>
        IngestedFrom >= IngestedTo ? $"ingestedFrom ({Time(IngestedFrom!.Value)}) must be before ingestedTo ({Time(IngestedTo!.Value)}): the range is [from, to)"
        : Upstream is not null && !UpstreamPattern().IsMatch(Upstream) ? $"upstream '{Upstream}' is invalid: use 1 to 64 lower-case letters, digits, '-', '_' or '.', starting with a letter or digit (as Ingest accepts it)"
        : null;

    /// <summary>The filters in words, e.g. <c>upstream 'crm', ingested in [2026-11-28T10:00:00Z, 2026-11-28T11:00:00Z)</c>.</summary>
    public string DescribeFilter()
    {
        var parts = new List<string>();
        if (Upstream is not null)
        {
            parts.Add($"upstream '{Upstream}'");
        }

        if (IngestedFrom is not null || IngestedTo is not null)
        {
            parts.Add($"ingested in [{(IngestedFrom is { } f ? Time(f) : "the beginning")}, {(IngestedTo is { } t ? Time(t) : "now")})");
        }

        return string.Join(", ", parts);
    }

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    [GeneratedRegex("^[a-z0-9][a-z0-9_.-]{0,63}$")]
    private static partial Regex UpstreamPattern();
}
