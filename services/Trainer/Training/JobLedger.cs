using Ctm.Trainer.Policies;
using Ctm.Trainer.Storage;
using Microsoft.EntityFrameworkCore;

namespace Ctm.Trainer.Training;

/// <summary>What the planner is shown of a dataset: its open jobs, the newest batch's place in order, and the last run's end.</summary>
public sealed record OpenWork(IReadOnlyList<OpenJob> Jobs, long NewestSeq, DateTimeOffset? LastRunAt);

/// <summary>
/// The training jobs' states: which are open, which a run took, and how each ends (done, failed, or open again for a
/// retry). A run's jobs are answered together; a failure that concerns one job or batch frees the others.
/// </summary>
public sealed partial class JobLedger(TrainerDbContext db, TimeProvider clock, ILogger<JobLedger> logger)
{
    /// <summary>The dataset's pending and running jobs as the planner sees them, or null when there are none.</summary>
    public async Task<OpenWork?> OpenAsync(string dataset, CancellationToken ct)
    {
        var openJobs = await db.Jobs.AsNoTracking().Where(j => j.Dataset == dataset && (j.Status == JobStatus.Pending || j.Status == JobStatus.Running)).ToListAsync(ct);
        if (openJobs.Count == 0)
        {
            return null;
        }

        var batchIds = openJobs.Where(j => j.BatchId is not null).Select(j => j.BatchId!.Value).ToList();
        var batches = await db.Batches.AsNoTracking().Where(b => batchIds.Contains(b.BatchId))
            .Select(b => new { b.BatchId, b.Seq, b.RowCount, b.Excluded }).ToDictionaryAsync(b => b.BatchId, ct);
        var newestSeq = await db.Batches.Where(b => b.Dataset == dataset).MaxAsync(b => (long?)b.Seq, ct) ?? 0;
        var lastRunAt = await db.Runs.Where(r => r.Dataset == dataset).MaxAsync(r => (DateTimeOffset?)r.FinishedAt, ct);
        var open = openJobs.Select(j =>
        {
            var b = j.BatchId is { } id && batches.TryGetValue(id, out var found) ? found : null;
            return new OpenJob(j.Id, j.Status == JobStatus.Running, b?.Seq, b?.RowCount ?? 0, b?.Excluded ?? false, j.CutoffSeq, j.CreatedAt);
        }).ToList();
        return new OpenWork(open, newestSeq, lastRunAt);
    }

    /// <summary>Marks the plan's jobs running (one more attempt each, the plan's cut-off) and returns them, oldest first.</summary>
    public async Task<List<TrainingJob>> TakeAsync(RunPlan plan, CancellationToken ct)
    {
        var jobs = await db.Jobs.Where(j => plan.JobIds.Contains(j.Id)).OrderBy(j => j.CreatedAt).ToListAsync(ct);
        foreach (var job in jobs)
        {
            job.Status = JobStatus.Running;
            job.Attempts++;
            job.CutoffSeq = plan.CutoffSeq;
        }

        await db.SaveChangesAsync(ct);
        return jobs;
    }

    /// <summary>Marks the jobs failed: they were tried as often as allowed.</summary>
    public async Task GiveUpAsync(List<TrainingJob> jobs, CancellationToken ct)
    {
        foreach (var job in jobs)
        {
            job.Status = JobStatus.Failed;
            job.FinishedAt = clock.GetUtcNow();
        }

        await db.SaveChangesAsync(ct);
    }

    /// <summary>Answers the jobs: done, with the run that answered them (none when there was nothing to train on) and a note.</summary>
    public async Task FinishAsync(List<TrainingJob> jobs, Guid? runId, string? note, CancellationToken ct)
    {
        foreach (var job in jobs)
        {
            job.Status = JobStatus.Done;
            job.RunId = runId;
            job.Error = note;
            job.FinishedAt = clock.GetUtcNow();
        }

        await db.SaveChangesAsync(ct);
    }

    /// <summary>Opens the jobs again after a failure worth retrying, with its message.</summary>
    public async Task ReleaseForRetryAsync(List<TrainingJob> jobs, Exception error, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        var ids = jobs.Select(j => j.Id).ToArray();
        await db.Jobs.Where(j => ids.Contains(j.Id)).ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, JobStatus.Pending).SetProperty(j => j.Error, error.Message), ct);
    }

    /// <summary>
    /// A run that cannot succeed as asked: a request naming a version that cannot be used fails alone (the batch jobs
    /// run again at once without it); a batch whose rows cannot be trained on is set aside (excluded, with the
    /// reason) so later runs skip it; anything else fails the run's jobs, recorded, and later batches start afresh.
    /// </summary>
    public async Task FailDeterministicallyAsync(string dataset, List<TrainingJob> jobs, Exception e, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        var now = clock.GetUtcNow();
        var ids = jobs.Select(j => j.Id).ToArray();
        switch (e)
        {
            case UnusableParentException bad:
                LogRequestFailed(dataset, bad.Message);
                await db.Jobs.Where(j => ids.Contains(j.Id) && j.FromVersion == bad.Version)
                    .ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, JobStatus.Failed).SetProperty(j => j.Error, bad.Message).SetProperty(j => j.FinishedAt, now), ct);
                await db.Jobs.Where(j => ids.Contains(j.Id) && j.FromVersion != bad.Version)
                    .ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, JobStatus.Pending).SetProperty(j => j.Attempts, j => j.Attempts - 1), ct);
                return;
            case UnusableBatchException batch:
                LogBatchSetAside(dataset, batch.BatchId, batch.Message);
                await db.Batches.Where(b => b.BatchId == batch.BatchId)
                    .ExecuteUpdateAsync(s => s.SetProperty(b => b.Excluded, true).SetProperty(b => b.ExcludedReason, "unusable for training: " + batch.Message), ct);
                await db.Jobs.Where(j => ids.Contains(j.Id) && j.BatchId == batch.BatchId)
                    .ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, JobStatus.Failed).SetProperty(j => j.Error, batch.Message).SetProperty(j => j.FinishedAt, now), ct);
                await db.Jobs.Where(j => ids.Contains(j.Id) && j.BatchId != batch.BatchId)
                    .ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, JobStatus.Pending).SetProperty(j => j.Attempts, j => j.Attempts - 1), ct);
                return;
            default:
                LogRunFailedForGood(e, dataset);
                await db.Jobs.Where(j => ids.Contains(j.Id))
                    .ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, JobStatus.Failed).SetProperty(j => j.Error, "cannot succeed as asked: " + e.Message).SetProperty(j => j.FinishedAt, now), ct);
                return;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A retrain request for {Dataset} cannot be served: {Reason}; its job is marked failed, the other jobs run without it")]
    private partial void LogRequestFailed(string dataset, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId} of {Dataset} cannot be trained on ({Reason}); it is set aside and the other jobs run without it")]
    private partial void LogBatchSetAside(string dataset, Guid batchId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Training {Dataset} cannot succeed as asked; its jobs are marked failed without retrying, later batches train afresh")]
    private partial void LogRunFailedForGood(Exception error, string dataset);
}
