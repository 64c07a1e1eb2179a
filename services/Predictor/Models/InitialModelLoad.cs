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
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !stoppingToken.IsCancellationRequested)
            {
                LogRegistryUnavailable(attempt, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(10, attempt)), stoppingToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Registry not reachable for the initial load (attempt {Attempt}): {Error}")]
    private partial void LogRegistryUnavailable(int attempt, string error);
}

/// <summary>Ready once the serving versions known at start-up are loaded (a fresh system with no model yet is ready too).</summary>
public sealed class ModelsLoadedCheck(ModelCatalog catalog) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(catalog.InitialLoadCompleted
            ? HealthCheckResult.Healthy($"{catalog.All.Count} model(s) loaded: {string.Join(", ", catalog.All.Select(m => $"{m.Dataset} v{m.Version}"))}")
            : HealthCheckResult.Unhealthy("the serving versions have not been loaded from the Registry yet"));
}
