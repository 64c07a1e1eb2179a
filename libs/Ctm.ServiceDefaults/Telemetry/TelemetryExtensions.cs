using Ctm.ServiceDefaults.Auth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Ctm.ServiceDefaults.Telemetry;

/// <summary>
/// Traces, metrics and logs for every Ctm service through OpenTelemetry: ASP.NET Core, HttpClient, MassTransit and
/// Ctm's own sources; exported over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (traces are recorded only
/// then), and metrics always readable at <c>/metrics</c> (Prometheus text) without a collector.
/// </summary>
public static class TelemetryExtensions
{
    /// <summary>The environment variable that turns OTLP export on (the OpenTelemetry SDK's own name for it).</summary>
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>The path of the Prometheus scrape page.</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>
    /// The ASP.NET Core meters exported: requests (<c>http.server.request.duration</c>, active requests), connections and
    /// handled exceptions. The instrumentation package's default set adds meters recorded several times a request (memory
    /// pool rentals, route matches, authentication and authorization timings): about 1 µs of a 25 µs request on two cores,
    /// for figures that the request duration's route and status tags already carry.
    /// </summary>
    public static IReadOnlyList<string> AspNetCoreMeters { get; } =
        ["Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Diagnostics", "Microsoft.AspNetCore.RateLimiting"];

    /// <summary>Registers tracing, metrics and the OpenTelemetry log provider.</summary>
    public static IHostApplicationBuilder AddCtmTelemetry(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // Console lines carry the trace and span ids and the message scopes (batch id, dataset, version).
        builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        builder.Services.Configure<SimpleConsoleFormatterOptions>(o => o.IncludeScopes = true);
        builder.Services.Configure<JsonConsoleFormatterOptions>(o => o.IncludeScopes = true);
        builder.Logging.AddOpenTelemetry(o =>
        {
            o.IncludeScopes = true;
            o.IncludeFormattedMessage = true;
        });

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(CtmTelemetry.ServiceName(builder.Environment.ApplicationName), serviceInstanceId: $"{Environment.MachineName}:{Environment.ProcessId}"))
            .WithMetrics(m => m
                .AddMeter(CtmTelemetry.MeterPrefix + "*", "MassTransit")
                .AddMeter([.. AspNetCoreMeters])
                .AddHttpClientInstrumentation()
                .AddPrometheusExporter());
        if (!string.IsNullOrWhiteSpace(builder.Configuration[OtlpEndpointVariable]))
        {
            // Spans only go out over OTLP: without an endpoint nothing would read them, and recording one per request
            // cost the Predictor about 4 µs of its 25 µs per request on two cores. (Requests still carry a trace id in
            // the logs: ASP.NET Core starts an activity per request for its logging scope without a listener.)
            telemetry.WithTracing(t => t
                .AddSource(CtmTelemetry.SourceName, CtmTelemetry.MeterPrefix + "*", "MassTransit")
                .AddAspNetCoreInstrumentation(o => o.Filter = context => !IsPlumbing(context.Request.Path))
                .AddHttpClientInstrumentation());

            // Reads OTEL_EXPORTER_OTLP_ENDPOINT / _PROTOCOL / _HEADERS itself; traces, metrics and logs alike.
            telemetry.UseOtlpExporter();
        }

        return builder;
    }

    /// <summary>Maps the Prometheus scrape page at <see cref="MetricsPath"/>.</summary>
    public static WebApplication MapCtmMetrics(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // Anonymous like the health probes: a scraper holds no key, and the figures carry no data or identities.
        app.MapPrometheusScrapingEndpoint(MetricsPath).AnonymousRead();
        return app;
    }

    // Probes and scrapes arrive every few seconds; as traces they would bury the ones that matter.
    private static bool IsPlumbing(PathString path) =>
        path.StartsWithSegments("/health", StringComparison.Ordinal) || path.StartsWithSegments(MetricsPath, StringComparison.Ordinal);
}
