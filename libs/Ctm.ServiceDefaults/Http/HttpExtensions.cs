using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Polly;
using Polly.Retry;

namespace Ctm.ServiceDefaults.Http;

/// <summary>HTTP clients for service-to-service calls (claim checks), with retries on transient failures.</summary>
public static class HttpExtensions
{
    /// <summary>The name of the shared resilient client.</summary>
    public const string ClientName = "ctm";

    /// <summary>Registers <see cref="ServiceUrls"/> and a named client <see cref="ClientName"/> that retries transient failures.</summary>
    public static IHostApplicationBuilder AddCtmHttp(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<ServiceUrls>().BindConfiguration(ServiceUrls.Section);
        builder.Services.AddTransient<ResilienceHandler>();
        builder.Services.AddHttpClient(ClientName, c => c.Timeout = TimeSpan.FromMinutes(5))
            .AddHttpMessageHandler<ResilienceHandler>();
        return builder;
    }
}

/// <summary>Retries connection failures, 408, 429 and 5xx with exponential back-off and jitter.</summary>
public sealed class ResilienceHandler : DelegatingHandler
{
    private static readonly ResiliencePipeline<HttpResponseMessage> Pipeline = new ResiliencePipelineBuilder<HttpResponseMessage>()
        .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
        {
            MaxRetryAttempts = 4,
            Delay = TimeSpan.FromMilliseconds(200),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
                .Handle<HttpRequestException>()
                .HandleResult(r => r.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)r.StatusCode >= 500),
        })
        .Build();

    /// <inheritdoc />
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        Pipeline.ExecuteAsync(async ct => await base.SendAsync(request, ct), cancellationToken).AsTask();
}
