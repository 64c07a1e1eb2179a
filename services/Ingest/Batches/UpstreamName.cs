using System.Text.RegularExpressions;

namespace Ctm.Ingest.Batches;

/// <summary>The name of the upstream system a batch came from: named like a dataset, so it is safe in URLs, logs and queries.</summary>
public static partial class UpstreamName
{
    /// <summary>Null when <paramref name="name"/> is usable (or absent); otherwise why not.</summary>
    public static string? Problem(string? name) =>
        name is null || Pattern().IsMatch(name)
            ? null
            : $"source name '{name}' is invalid: use 1 to 64 lower-case letters, digits, '-', '_' or '.', starting with a letter or digit";

    [GeneratedRegex("^[a-z0-9][a-z0-9_.-]{0,63}$")]
    private static partial Regex Pattern();
}
