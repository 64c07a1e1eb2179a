using Ctm.Contracts;
using Ctm.Predictor.Extensions;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Ctm.Predictor.Models;

/// <summary>
/// Tells the Registry, every <see cref="ServingOptions.ReportIntervalSeconds"/>, that this replica is alive and what it
/// serves; once more when it stops. The Registry waits for live replicas only, and a lost <see cref="ModelLoaded"/> is
/// made good by the next report.
/// </summary>
public sealed partial class ReplicaReporter(
    ModelCatalog catalog,
    ReplicaIdentity replica,
    IBus bus,
    IOptions<ServingOptions> options,
    ILogger<ReplicaReporter> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(options.Value.ReportIntervalSeconds);
        using var timer = new PeriodicTimer(interval);
        do
        {
            await ReportAsync(stopping: false, stoppingToken);
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await ReportAsync(stopping: true, cancellationToken);
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

    private async Task ReportAsync(bool stopping, CancellationToken ct)
    {
        var serving = catalog.Slots
            .Select(s => s.Primary)
            .OfType<LoadedModel>()
            .Where(m => m.Generation > 0)
            .Select(m => new ReplicaServing { Dataset = m.Dataset, Version = m.Version, Generation = m.Generation, ArtifactSha256 = m.Sha256, Since = m.LoadedAt })
            .ToList();
        try
        {
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
            bounded.CancelAfter(TimeSpan.FromSeconds(10));
            await bus.Publish(new PredictorReplicaReported
            {
                Replica = replica.Name,
                ReportedAt = DateTimeOffset.UtcNow,
                IntervalSeconds = options.Value.ReportIntervalSeconds,
                Serving = serving,
                Stopping = stopping ? true : null,
                CorrelationId = Guid.NewGuid(),
            }, bounded.Token);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // The next report makes good a missed one; a replica that cannot reach the bus stops counting as live.
            LogReportFailed(e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not report this replica to the Registry: {Error}")]
    private partial void LogReportFailed(string error);
}
