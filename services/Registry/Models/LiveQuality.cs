using Ctm.ServiceDefaults.Http;
using Microsoft.Extensions.Options;

namespace Ctm.Registry.Models;

/// <summary>
/// A version's live quality from one source, as the Trainer (which owns model quality) measures it: <c>test-then-train</c>
/// (labeled batches scored by the version serving when they arrived) or <c>served</c> (what the version answered in its
/// <c>Role</c> — serving, canary or shadow — joined by key to labels that came later). Values are row-weighted means of
/// the newest points; <c>Value</c> is the judged <c>Metric</c> (log loss, or RMSE for regression).
/// </summary>
public sealed record LiveQualityDto(
    string Source, string? Role, int Points, long Rows, string Metric, double? Value, double? Accuracy, double? RocAuc, double? Ece, double? Rmse, DateTimeOffset LastScoredAt);

/// <summary>
/// Asks the Trainer for each version's live quality, for the version view. The view must answer even when the Trainer
/// does not: the call is bounded in time, and a failure leaves the live quality unknown with the reason, never an error.
/// </summary>
public sealed partial class LiveQuality(IHttpClientFactory http, IOptions<ServiceUrls> urls, ILogger<LiveQuality> logger)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    private sealed record VersionQuality(int Version, List<LiveQualityDto> Live);

    /// <returns>Per version, its live quality; or null and why it is unknown.</returns>
    public async Task<(IReadOnlyDictionary<int, List<LiveQualityDto>>? ByVersion, string? Problem)> GetAsync(string dataset, CancellationToken ct)
    {
        if (urls.Value.Trainer is not { } trainer)
        {
            return (null, "the setting Services:Trainer is missing, so the Trainer's live quality cannot be asked");
        }

        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bounded.CancelAfter(Bound);
        try
        {
            using var client = http.CreateClient(HttpExtensions.ClientName);
            var versions = await client.GetFromJsonAsync<List<VersionQuality>>(new Uri(trainer, $"v1/datasets/{Uri.EscapeDataString(dataset)}/quality/versions"), bounded.Token);
            return (versions!.ToDictionary(v => v.Version, v => v.Live), null);
        }
        catch (Exception e) when (e is HttpRequestException or System.Text.Json.JsonException || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            LogUnavailable(e, dataset);
            return (null, $"the Trainer's live quality did not answer: {(e is OperationCanceledException ? $"no answer within {Bound.TotalSeconds:0} s" : e.Message)}");
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The live quality of {Dataset} could not be read from the Trainer")]
    private partial void LogUnavailable(Exception error, string dataset);
}
