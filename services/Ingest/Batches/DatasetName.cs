using System.Text.RegularExpressions;

namespace Ctm.Ingest.Batches;

public static partial class DatasetName
{
    /// <summary>Null when <paramref name="name"/> is usable in URLs and model names; otherwise why not.</summary>
    public static string? Problem(string? name) =>
        name is not null && Pattern().IsMatch(name)
            ? null
            : $"dataset name '{name}' is invalid: use 1 to 64 lower-case letters, digits, '-', '_' or '.', starting with a letter or digit";

    [GeneratedRegex("^[a-z0-9][a-z0-9_.-]{0,63}$")]
    private static partial Regex Pattern();
}
