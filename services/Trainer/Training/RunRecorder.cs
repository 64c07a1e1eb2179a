using Ctm.Contracts;
using Ctm.ServiceDefaults.Storage;
using Ctm.Trainer.Storage;
using Microsoft.EntityFrameworkCore;

namespace Ctm.Trainer.Training;

/// <summary>
/// Records a finished run in one transaction: the run, its <see cref="ModelTrained"/> outbox row and its answered
/// jobs, unless a batch it trained on was excluded while it trained.
/// </summary>
public sealed class RunRecorder(TrainerDbContext db, JobLedger ledger, OutboxSignal outbox)
{
    public async Task RecordAsync(TrainingRunRecord run, ModelTrained trained, List<TrainingJob> jobs, CancellationToken ct)
    {
        var batchIds = run.BatchIds;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // A batch quarantined, discarded or declared corrupt while we trained must not reach a model: drop this run;
        // the jobs stay open and run again without it. FOR SHARE reads the latest committed flag and makes a
        // concurrent exclusion wait for this commit (after which the Registry's own rules apply to the version).
        var excluded = await db.Database.SqlQuery<bool>($"SELECT excluded AS \"Value\" FROM trainer.batches WHERE batch_id = ANY({batchIds}) FOR SHARE").ToListAsync(ct);
        if (excluded.Any(x => x))
        {
            throw new InvalidOperationException("A batch used by this run was excluded while it trained; retraining without it");
        }

        db.Runs.Add(run);
        await db.SaveChangesAsync(ct);
        await db.EnqueueAsync(trained, trained.CorrelationId, ct);
        await ledger.FinishAsync(jobs, run.Id, null, ct);
        await tx.CommitAsync(ct);
        outbox.Notify();
    }
}
