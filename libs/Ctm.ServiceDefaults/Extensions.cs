using System.Text.Json;
using System.Text.Json.Serialization;
using Ctm.ServiceDefaults.Auth;
using Ctm.ServiceDefaults.Messaging;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Ctm.ServiceDefaults.Telemetry;

namespace Ctm.ServiceDefaults;

/// <summary>What every Ctm service has: health endpoints, problem details, JSON conventions, console logs.</summary>
public static class Extensions
{
    /// <summary>Tag of the health checks that must pass before a service takes traffic.</summary>
    public const string ReadyTag = "ready";

    /// <summary>Registers the service defaults.</summary>
    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddProblemDetails();
        builder.Services.AddHealthChecks();
        builder.Services.ConfigureHttpJsonOptions(o => ConfigureJson(o.SerializerOptions));
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        // One line per claim-check fetch is noise; failures still log as warnings.
        builder.Logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.AddCtmTelemetry();
        builder.AddCtmAuth();
        return builder;
    }

    /// <summary>The JSON conventions of every Ctm HTTP API: camelCase, enums as strings, nulls omitted.</summary>
    public static void ConfigureJson(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower));
    }

    /// <summary>
    /// Adds authentication and authorization, and maps <c>/health/live</c> (the process answers), <c>/health/ready</c>
    /// (every check tagged <see cref="ReadyTag"/> passes: database, broker, and whatever the service adds), the metrics,
    /// the error-queue operations and the route table (<see cref="AuthExtensions.MapRoutesApi"/>).
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();
        // Probes are anonymous: an orchestrator holds no key, and they say only whether the process and its dependencies answer.
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).AnonymousRead();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = r => r.Tags.Contains(ReadyTag),
            ResponseWriter = WriteReport,
        }).AnonymousRead();
        app.MapCtmMetrics();
        app.MapErrorQueuesApi();
        app.MapRoutesApi();
        return app;
    }

    private static Task WriteReport(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        var body = new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(
                e => e.Key,
                e => new { status = e.Value.Status.ToString(), description = e.Value.Description ?? e.Value.Exception?.Message }),
        };
        return context.Response.WriteAsJsonAsync(body, context.RequestAborted);
    }
}
