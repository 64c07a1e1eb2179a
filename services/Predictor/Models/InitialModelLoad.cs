using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Ctm.Predictor.Models;

/// <summary>At start-up, loads the versions the Registry says are serving; retries until the Registry answers.</summary>
public sealed partial class InitialModelLoad(ModelLoader loader, ModelCatalog catalog, ILogger<InitialModelLoad> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        for (var attempt = 1; !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                await loader.LoadServingAsync(stoppingToken);
                catalog.InitialLoadCompleted = true;
                return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or Polly.ExecutionRejectedException && !stoppingToken.IsCancellationRequested)
            {
                LogRegistryUnavailable(attempt, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(10, attempt)), stoppingToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Registry not reachable for the initial load (attempt {Attempt}): {Error}")]
    private partial void LogRegistryUnavailable(int attempt, string error);
}

/// <summary>
/// Ready once the serving versions known at start-up are loaded (a fresh system with no model yet is ready too).
/// A version that failed to load while an older one keeps serving makes the check Degraded (still ready) and named.
/// </summary>
public sealed class ModelsLoadedCheck(ModelCatalog catalog) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!catalog.InitialLoadCompleted)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("the serving versions have not been loaded from the Registry yet"));
        }

        var slots = catalog.Slots;
        var serving = string.Join(", ", slots.Where(s => s.Primary is not null).Select(s => $"{s.Dataset} v{s.Primary!.Version} ({s.Primary.Path})"));
        var failures = slots
            .Where(s => s.LastFailure is { } f && (s.Primary is null || f.At > s.Primary.LoadedAt))
            .Select(s => $"{s.Dataset} v{s.LastFailure!.Version} refused ({s.LastFailure.Kind}: {s.LastFailure.Reason}), {(s.Primary is null ? "nothing serving" : $"v{s.Primary.Version} keeps serving")}")
            .ToList();
        var description = $"{slots.Count(s => s.Primary is not null)} model(s) loaded: {serving}";
        return Task.FromResult(failures.Count == 0
            ? HealthCheckResult.Healthy(description)
            : HealthCheckResult.Degraded($"{description}; {string.Join("; ", failures)}"));
    }
}
