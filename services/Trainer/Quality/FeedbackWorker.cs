using Ctm.Trainer.Extensions;
using Ctm.Trainer.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Ctm.Trainer.Quality;

/// <summary>Runs <see cref="FeedbackMaintenance"/> for every dataset with feedback, every <see cref="FeedbackOptions.PollSeconds"/>.</summary>
public sealed partial class FeedbackWorker(IServiceScopeFactory services, IOptions<FeedbackOptions> settings, ILogger<FeedbackWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(settings.Value.PollSeconds));
        do
        {
            List<string> datasets;
            try
            {
                await using var scope = services.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<TrainerDbContext>();
                // Every dataset that received a prediction or a label has counters; a key column alone waits for its first batch.
                datasets = await db.FeedbackCounters.AsNoTracking().Select(c => c.Dataset)
                    .Union(db.QualityDatasets.AsNoTracking().Where(s => s.KeyColumn != null).Select(s => s.Dataset)).ToListAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogPollFailed(e, "(all)");
                continue;
            }

            foreach (var dataset in datasets)
            {
                try
                {
                    await using var scope = services.CreateAsyncScope();
                    await scope.ServiceProvider.GetRequiredService<FeedbackMaintenance>().RunAsync(dataset, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogPollFailed(e, dataset);
                }
            }
        }
        while (await Next(timer, stoppingToken));
    }

    private static async Task<bool> Next(PeriodicTimer timer, CancellationToken ct)
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Label feedback of {Dataset} failed; retried at the next poll")]
    private partial void LogPollFailed(Exception error, string dataset);
}
