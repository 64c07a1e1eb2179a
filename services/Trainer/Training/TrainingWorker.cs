using Microsoft.EntityFrameworkCore;
using Ctm.Trainer.Extensions;
using Ctm.Trainer.Quality;
using Ctm.Trainer.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ctm.Trainer.Training;

/// <summary>
/// Runs recorded training jobs. One active run per dataset across every replica: a session-level PostgreSQL
/// advisory lock on the dataset is held for the whole run on a dedicated connection, so a replica that dies
/// releases it with its connection, and its jobs (still 'running', never 'done') are picked up again.
/// The dataset's policy decides inside the lock whether a run is due; runs due at once (a backlog) run back to back.
/// </summary>
/// <remarks>Takes <see cref="TrainingDevice"/> to log the default engine and device at start.</remarks>
public sealed partial class TrainingWorker(
    IServiceProvider services,
    TrainingSignal signal,
    TrainingDevice device,
    IConfiguration configuration,
    IOptions<TrainerOptions> settings,
    TimeProvider clock,
    ILogger<TrainingWorker> logger) : BackgroundService
{
    private static readonly TimeSpan FallbackPoll = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan SchedulePoll = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Let migrations finish and the bus start before the first poll.
        await Task.Yield();
        LogDevice(device.Defaults);
        while (!stoppingToken.IsCancellationRequested)
        {
            // A recorded job or a changed policy wakes the worker (TrainingSignal, and PostgreSQL's notification on the
            // jobs table from any replica); only a dataset whose policy trains on a schedule needs the clock watched.
            var wait = FallbackPoll;
            try
            {
                if (await RunDueDatasetsAsync(stoppingToken))
                {
                    wait = SchedulePoll;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LogPollFailed(e);
                wait = SchedulePoll;
            }

            try
            {
                await signal.WaitAsync(wait, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Runs every dataset whose run is due; true when jobs wait on a dataset that trains on a schedule.</summary>
    private async Task<bool> RunDueDatasetsAsync(CancellationToken ct)
    {
        List<string> datasets;
        bool scheduled;
        await using (var scope = services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<TrainerDbContext>();
            datasets = await db.Jobs.Where(j => j.Status == JobStatus.Pending || j.Status == JobStatus.Running)
                .GroupBy(j => j.Dataset)
                .OrderBy(g => g.Min(j => j.CreatedAt))
                .Select(g => g.Key)
                .ToListAsync(ct);
            scheduled = datasets.Count > 0 && await db.Policies.AnyAsync(p => datasets.Contains(p.Dataset) && p.Trigger == "schedule", ct);
        }

        foreach (var dataset in datasets)
        {
            await using var lockConnection = new NpgsqlConnection(configuration.GetConnectionString("Postgres"));
            await lockConnection.OpenAsync(ct);
            await using var tryLock = new NpgsqlCommand("SELECT pg_try_advisory_lock(hashtext(@k))", lockConnection);
            tryLock.Parameters.AddWithValue("k", "trainer:" + dataset);
            if (await tryLock.ExecuteScalarAsync(ct) is not true)
            {
                continue; // another replica is training this dataset
            }

            try
            {
                for (var run = 0; run < 100; run++)
                {
                    await using var scope = services.CreateAsyncScope();
                    // Before any run: a batch that arrived is scored by the version that served then (test-then-train).
                    // Scoring is an observation: its failure must never hold training back.
                    try
                    {
                        await scope.ServiceProvider.GetRequiredService<QualityScorer>().ScorePendingAsync(dataset, ct);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        LogScoringFailed(e, dataset);
                    }

                    await WaitForPreviousPromotionAsync(scope.ServiceProvider.GetRequiredService<TrainerDbContext>(), dataset, ct);
                    if (!await scope.ServiceProvider.GetRequiredService<TrainingRunner>().RunAsync(dataset, ct))
                    {
                        break;
                    }
                }
            }
            finally
            {
                await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock(hashtext(@k))", lockConnection);
                unlock.Parameters.AddWithValue("k", "trainer:" + dataset);
                await unlock.ExecuteScalarAsync(CancellationToken.None);
            }
        }

        return scheduled;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Training worker started; datasets without an engine or device in their policy use {Defaults}")]
    private partial void LogDevice(string defaults);

    /// <summary>
    /// Warm start is from the serving version. A run that starts right after the previous one finished would not
    /// yet know whether the Registry promoted it, and would start from the version before; so wait (bounded) until
    /// the previous run serves, or the Registry has had <see cref="TrainerOptions.PromotionWaitSeconds"/> to decide.
    /// </summary>
    private async Task WaitForPreviousPromotionAsync(TrainerDbContext db, string dataset, CancellationToken ct)
    {
        var wait = TimeSpan.FromSeconds(settings.Value.PromotionWaitSeconds);
        var last = await db.Runs.AsNoTracking().Where(r => r.Dataset == dataset).OrderByDescending(r => r.FinishedAt)
            .Select(r => new { r.Id, r.FinishedAt }).FirstOrDefaultAsync(ct);
        if (last is null || wait <= TimeSpan.Zero)
        {
            return;
        }

        while (clock.GetUtcNow() - last.FinishedAt < wait)
        {
            if (await db.Serving.AsNoTracking().AnyAsync(s => s.Dataset == dataset && s.RunId == last.Id, ct)
                || await db.Jobs.AnyAsync(j => j.Dataset == dataset && j.TriggerKey.StartsWith("retrain:") && j.Status == JobStatus.Pending, ct))
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), ct);
        }

        LogPromotionNotSeen(dataset, last.Id, wait.TotalSeconds);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Dataset}: run {RunId} was not seen promoted within {Seconds} s; the next run warm-starts from the serving version")]
    private partial void LogPromotionNotSeen(string dataset, Guid runId, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Scoring {Dataset}'s waiting batches failed; training goes on, scoring is retried at the next poll")]
    private partial void LogScoringFailed(Exception error, string dataset);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Training poll failed; retrying")]
    private partial void LogPollFailed(Exception error);
}
