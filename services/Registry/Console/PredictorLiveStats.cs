using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Ctm.Registry.Serving;
using Ctm.ServiceDefaults.Auth;
using Ctm.ServiceDefaults.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Ctm.Registry.Console;

/// <summary>
/// The Predictors' live numbers for one dataset: the Registry asks every replica it can reach (<c>GET /v1/live-stats</c>,
/// with the caller's key) and joins the answers with its serving record, so a live replica that did not answer shows as
/// such instead of vanishing. <c>GET /console/api/datasets/{d}/predictors</c> answers once; <c>.../predictors/events</c>
/// streams a <c>predictors</c> event every <see cref="ConsoleOptions.LiveStatsMilliseconds"/> while the page is open.
/// </summary>
public static partial class PredictorLiveStats
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(3);

    public static IEndpointRouteBuilder MapPredictorLiveStats(this IEndpointRouteBuilder api)
    {
        api.MapGet("/datasets/{dataset}/predictors", async (string dataset, HttpContext context, IServiceScopeFactory scopes, CancellationToken ct) =>
            TypedResults.Ok(await GatherAsync(dataset, context, scopes, ct)));
        api.MapGet("/datasets/{dataset}/predictors/events", StreamAsync);
        return api;
    }

    public static ServerSentEventsResult<PredictorsDto> StreamAsync(
        string dataset, HttpContext context, IServiceScopeFactory scopes, IOptions<ConsoleOptions> options, ILoggerFactory logs, CancellationToken ct) =>
        TypedResults.ServerSentEvents(
            TicksAsync(dataset, context, scopes, TimeSpan.FromMilliseconds(options.Value.LiveStatsMilliseconds), logs.CreateLogger(typeof(PredictorLiveStats)), ct), "predictors");

    private static async IAsyncEnumerable<PredictorsDto> TicksAsync(
        string dataset, HttpContext context, IServiceScopeFactory scopes, TimeSpan interval, ILogger log, [EnumeratorCancellation] CancellationToken ct)
    {
        using var timer = new PeriodicTimer(interval);
        do
        {
            PredictorsDto? now = null;
            try
            {
                now = await GatherAsync(dataset, context, scopes, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A database hiccup must not end the page's stream: the next tick tries again.
                LogGatherFailed(log, dataset, e);
            }

            if (now is not null)
            {
                yield return now;
            }
        }
        while (await WaitAsync(timer, ct));
    }

    /// <summary>Every replica of the serving record and every replica that answered, with its numbers or why there are none.</summary>
    public static async Task<PredictorsDto> GatherAsync(string dataset, HttpContext context, IServiceScopeFactory scopes, CancellationToken ct)
    {
        var services = context.RequestServices;
        var options = services.GetRequiredService<IOptions<ConsoleOptions>>().Value;
        var fallback = services.GetRequiredService<IOptions<ServiceUrls>>().Value.Predictor;
        var urls = options.PredictorUrls.Count > 0 ? options.PredictorUrls : fallback is null ? [] : [fallback];
        var key = await context.CallerKeyAsync();
        var answers = await AskAllAsync(services.GetRequiredService<IHttpClientFactory>(), urls, key, ct);

        List<ReplicaStateDto> record;
        await using (var scope = scopes.CreateAsyncScope())
        {
            record = await scope.ServiceProvider.GetRequiredService<ServingRecord>().ReplicasAsync(dataset, ct);
        }

        var stats = answers.Stats.GroupBy(s => s.Replica, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var names = record.Where(r => r.Live).Select(r => r.Replica).Union(stats.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal);
        var replicas = names.Select(name =>
        {
            var known = record.FirstOrDefault(r => r.Replica == name);
            var numbers = stats.GetValueOrDefault(name)?.Datasets.FirstOrDefault(d => d.Dataset == dataset);
            return new ReplicaLiveDto(
                name, known?.Live ?? true, numbers?.Version ?? known?.Version, numbers?.CanaryVersion, known?.LastSeen, numbers,
                stats.ContainsKey(name) ? null : urls.Count == 0
                    ? "no Predictor address is configured (Console:PredictorUrls or Services:Predictor)"
                    : $"live by its reports, but no address in Console:PredictorUrls ({string.Join(", ", urls)}) answered as this replica");
        }).ToList();

        var with = replicas.Select(r => r.Stats).OfType<ReplicaDatasetStats>().ToList();
        var hits = with.Sum(s => s.CacheHits ?? 0);
        var lookups = hits + with.Sum(s => s.CacheMisses ?? 0);
        var total = new PredictorTotals(
            Math.Round(with.Sum(s => s.RequestsPerSecond), 2),
            with.Select(s => s.P99Ms).OfType<double>().DefaultIfEmpty().Max() is var worst and > 0 ? worst : (double?)null,
            lookups > 0 ? Math.Round((double)hits / lookups, 4) : null);
        return new PredictorsDto(dataset, DateTimeOffset.UtcNow, answers.Stats.FirstOrDefault()?.WindowSeconds, total, replicas, answers.Problems);
    }

    private static async Task<(List<ReplicaStatsAnswer> Stats, List<string> Problems)> AskAllAsync(IHttpClientFactory http, IReadOnlyList<Uri> urls, string? key, CancellationToken ct)
    {
        var stats = new List<ReplicaStatsAnswer>();
        var problems = new List<string>();
        foreach (var url in urls)
        {
            var addresses = await AddressesAsync(url, ct);
            var asked = await Task.WhenAll(addresses.Select(a => AskAsync(http, a, key, ct)));
            stats.AddRange(asked.Select(a => a.Stats).OfType<ReplicaStatsAnswer>());
            // A name with several addresses may list one the replicas do not listen on (localhost's ::1): only all failing is news.
            if (asked.All(a => a.Stats is null))
            {
                problems.AddRange(asked.Select(a => a.Problem).OfType<string>());
            }
        }

        return (stats, problems);
    }

    private static async Task<IReadOnlyList<Uri>> AddressesAsync(Uri url, CancellationToken ct)
    {
        if (url.HostNameType != UriHostNameType.Dns || url.IsLoopback)
        {
            return [url];
        }

        try
        {
            var addresses = await Dns.GetHostAddressesAsync(url.DnsSafeHost, ct);
            return addresses.Length <= 1
                ? [url]
                : [.. addresses.Where(a => a.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
                    .Select(a => new UriBuilder(url) { Host = a.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{a}]" : a.ToString() }.Uri)];
        }
        catch (SocketException)
        {
            return [url]; // the request names the failure
        }
    }

    private static async Task<(ReplicaStatsAnswer? Stats, string? Problem)> AskAsync(IHttpClientFactory http, Uri baseUrl, string? key, CancellationToken ct)
    {
        using var client = http.CreateClient(ConsoleApi.ClientName);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(baseUrl, "v1/live-stats"));
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue(ApiKeyAuthenticationHandler.SchemeName, key);
        }

        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bounded.CancelAfter(AskTimeout);
        try
        {
            using var response = await client.SendAsync(request, bounded.Token);
            if (!response.IsSuccessStatusCode)
            {
                return (null, $"{baseUrl} answered {(int)response.StatusCode} to GET /v1/live-stats");
            }

            return (await response.Content.ReadFromJsonAsync<ReplicaStatsAnswer>(JsonSerializerOptions.Web, bounded.Token), null);
        }
        catch (Exception e) when (e is HttpRequestException or JsonException || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            return (null, $"{baseUrl} did not answer GET /v1/live-stats: {(e is OperationCanceledException ? $"no answer within {AskTimeout.TotalSeconds:0} s" : e.Message)}");
        }
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            return await timer.WaitForNextTickAsync(ct);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Gathering the Predictors' live numbers of {Dataset} failed; retrying at the next tick")]
    private static partial void LogGatherFailed(ILogger logger, string dataset, Exception exception);
}

/// <summary>What the page shows: the dataset's replicas with their numbers, totals over those that answered, and who could not be asked.</summary>
public sealed record PredictorsDto(string Dataset, DateTimeOffset At, int? WindowSeconds, PredictorTotals Total, IReadOnlyList<ReplicaLiveDto> Replicas, IReadOnlyList<string> Problems);

/// <summary>Requests per second summed over the replicas, the worst replica's p99, and the cache hit rate over all their lookups.</summary>
public sealed record PredictorTotals(double RequestsPerSecond, double? P99Ms, double? CacheHitRate);

/// <summary>One replica: live by the serving record, the version it serves, its numbers for the dataset, or why there are none.</summary>
public sealed record ReplicaLiveDto(string Replica, bool Live, int? Version, int? CanaryVersion, DateTimeOffset? LastSeen, ReplicaDatasetStats? Stats, string? Unreached);

/// <summary>A Predictor's <c>GET /v1/live-stats</c> answer (the Predictor's HTTP API, read here as JSON).</summary>
public sealed record ReplicaStatsAnswer(string Replica, DateTimeOffset At, int WindowSeconds, IReadOnlyList<ReplicaDatasetStats> Datasets);

/// <summary>One dataset on one replica, as the Predictor reports it.</summary>
public sealed record ReplicaDatasetStats(
    string Dataset, int? Version, int? CanaryVersion, double CanaryShare, string? Path,
    double RequestsPerSecond, long RequestsInWindow, long RequestsTotal, double? P50Ms, double? P99Ms,
    long? CacheHits, long? CacheMisses, double? CacheHitRate);
