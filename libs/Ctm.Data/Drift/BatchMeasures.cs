using System.Text.Json;
using Ctm.Data.Statistics;

namespace Ctm.Data.Drift;

/// <summary>
/// How far one batch was from its reference, per feature and measure (<see cref="Measures"/>), and which
/// measures warned. The measures of accepted batches form the dataset's empirical null; the warnings of the
/// batches just before make a persistent shift visible.
/// </summary>
public sealed record BatchMeasures
{
    /// <summary>True when the Validator accepted the batch: only accepted batches' measures describe natural variation.</summary>
    public bool Accepted { get; init; }

    /// <summary>Feature → measure → value.</summary>
    public Dictionary<string, Dictionary<string, double>> Features { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Measures that exceeded their warning level, as <c>feature/measure</c>.</summary>
    public List<string> Warned { get; init; } = [];

    /// <summary>
    /// Accumulated evidence of a persistent shift per <c>feature/measure</c> (a one-sided CUSUM of deviations above
    /// the null, in robust standard deviations), after this batch; absent where it is 0.
    /// </summary>
    public Dictionary<string, double> Evidence { get; init; } = new(StringComparer.Ordinal);

    /// <summary>The value of <paramref name="measure"/> for <paramref name="feature"/>, or null when it was not measured.</summary>
    public double? Get(string feature, string measure) =>
        Features.TryGetValue(feature, out var m) && m.TryGetValue(measure, out var v) ? v : null;

    /// <summary>The key of a measure in <see cref="Warned"/>.</summary>
    public static string Key(string feature, string measure) => $"{feature}/{measure}";

    /// <summary>The measures as JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, DataJson.Options);

    /// <summary>Reads measures written by <see cref="ToJson"/>.</summary>
    public static BatchMeasures FromJson(string json) =>
        JsonSerializer.Deserialize<BatchMeasures>(json, DataJson.Options) ?? throw new JsonException("the measures JSON is null");
}
