using Ctm.ServiceDefaults.Auth;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Polly;

namespace Ctm.ServiceDefaults.Http;

/// <summary>HTTP clients for service-to-service calls (claim checks), with retries on transient failures.</summary>
public static class HttpExtensions
{
    /// <summary>The name of the shared resilient client.</summary>
    public const string ClientName = "ctm";

    /// <summary>Attempts of one request: the first and four retries.</summary>
    public const int MaxAttempts = 5;

    // The whole call, retries and body included: a claim check can be a large model artifact on a busy machine.
    private static readonly TimeSpan TotalTimeout = TimeSpan.FromMinutes(5);

    // Until the response headers of one attempt (the body is read after the handler, under TotalTimeout).
    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Registers <see cref="ServiceUrls"/> and a named client that sends this service's key to the other Ctm services (<see cref="ServiceKeyHandler"/>) <see cref="ClientName"/> with the standard resilience
    /// handler (Microsoft.Extensions.Http.Resilience): connection failures, attempt timeouts, 408, 429 and 5xx are
    /// retried up to <see cref="MaxAttempts"/> attempts in all with exponential back-off from 200 ms and jitter; any
    /// other status (a 400, a 404) comes back at once. When every attempt failed, the caller gets the last outcome:
    /// the 5xx response, or the <see cref="HttpRequestException"/>.
    /// </summary>
    public static IHostApplicationBuilder AddCtmHttp(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<ServiceUrls>().BindConfiguration(ServiceUrls.Section);
        // The handler sends nothing when no service key is configured (Auth:ServiceKey), so a host without auth works too.
        builder.Services.TryAddTransient<ServiceKeyHandler>();
        builder.Services.AddHttpClient(ClientName, c => c.Timeout = TotalTimeout)
            .AddHttpMessageHandler<ServiceKeyHandler>()
            .AddStandardResilienceHandler(o =>
            {
                // The default ShouldHandle is the set retried before (plus attempt timeouts); the counts and delays are ours.
                o.Retry.MaxRetryAttempts = MaxAttempts - 1;
                o.Retry.Delay = TimeSpan.FromMilliseconds(200);
                o.Retry.BackoffType = DelayBackoffType.Exponential;
                o.Retry.UseJitter = true;
                o.AttemptTimeout.Timeout = AttemptTimeout;
                o.TotalRequestTimeout.Timeout = TotalTimeout;
                // The breaker must sample at least two attempt timeouts (the options validation says so).
                o.CircuitBreaker.SamplingDuration = 2 * AttemptTimeout;
            });
        return builder;
    }
}
