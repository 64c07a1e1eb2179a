using Ctm.Contracts;
using Ctm.ServiceDefaults.Storage;
using Ctm.ServiceDefaults.Telemetry;
using Ctm.Trainer.Training;
using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace Ctm.Trainer.Storage;

/// <summary>
/// The Trainer's record of batches: an accepted batch and the training job it triggers, and the exclusions that keep
/// a batch out of every later run. Every write is idempotent, so a redelivered message has no second effect.
/// </summary>
public sealed class BatchLedger(TrainerDbContext db, TrainingSignal signal, TimeProvider clock)
{
    /// <summary>
    /// Records an accepted (or released) batch and a training job for it; the worker trains when the dataset's policy
    /// says so. Every accepted batch gets its job (its trigger); a run answers the jobs it took.
    /// </summary>
    public async Task RecordAcceptedAsync(BatchAccepted m, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        if (!await db.TryMarkProcessedAsync("record-accepted-batch", $"{m.BatchId}:{(m.Released ? "released" : "accepted")}", ct))
        {
            return;
        }

        var finalExclusion = await FinalReasonAsync(m.BatchId, ct);
        var batch = await db.Batches.FindAsync([m.BatchId], ct);
        var requeue = false;
        if (batch is null)
        {
            db.Batches.Add(new AcceptedBatch
            {
                BatchId = m.BatchId,
                Dataset = m.Dataset,
                Location = m.Location,
                Sha256 = m.Sha256,
                RowCount = m.RowCount,
                SchemaVersion = m.SchemaVersion,
                Features = [.. m.Features],
                LabelColumn = m.LabelColumn,
                Task = m.Task,
                AcceptedAt = m.AcceptedAt,
                Excluded = finalExclusion is not null,
                ExcludedReason = finalExclusion,
            });
        }
        else if (m.Released && finalExclusion is null)
        {
            batch.Excluded = false;
            batch.ExcludedReason = null;
            requeue = true;
        }

        db.Jobs.Add(new TrainingJob
        {
            Id = NewId.NextGuid(),
            Dataset = m.Dataset,
            TriggerKey = $"batch:{m.BatchId}:{(m.Released ? "released" : "accepted")}",
            Reason = m.Released ? "batch-released" : "batch-accepted",
            CorrelationId = m.CorrelationId,
            BatchId = m.BatchId,
            Status = JobStatus.Pending,
            CreatedAt = clock.GetUtcNow(),
            TraceParent = CtmTelemetry.CurrentTraceParent(),
        });
        await db.SaveChangesAsync(ct);
        if (finalExclusion is null && (batch is null || requeue))
        {
            // Test-then-train: the version serving now never saw this batch; it scores it before any run trains on it.
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO trainer.quality_pending (batch_id, dataset, version, run_id, correlation_id)
                SELECT {m.BatchId}, dataset, version, run_id, {m.CorrelationId} FROM trainer.serving WHERE dataset = {m.Dataset} AND run_id IS NOT NULL
                ON CONFLICT (batch_id) DO NOTHING
                """, ct);
        }

        if (requeue)
        {
            // A released batch re-enters the order at the end: it counts toward the next threshold like a new one.
            await db.Database.ExecuteSqlAsync($"UPDATE trainer.batches SET seq = nextval('trainer.batch_seq') WHERE batch_id = {m.BatchId}", ct);
        }

        await tx.CommitAsync(ct);
        signal.Notify();
    }

    /// <summary>
    /// Excludes the batch. A final exclusion (discarded, corrupt) also leaves a tombstone, so a batch the Trainer has
    /// not heard of yet is excluded when it arrives, and a later release cannot bring it back.
    /// Idempotent by nature: excluding twice is one effect.
    /// </summary>
    public async Task ExcludeAsync(Guid batchId, string dataset, string reason, bool final, DateTimeOffset at, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        if (final)
        {
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO trainer.excluded_batches (batch_id, dataset, reason, excluded_at) VALUES ({batchId}, {dataset}, {reason}, {at})
                ON CONFLICT (batch_id) DO NOTHING
                """, ct);
        }

        await db.Batches.Where(b => b.BatchId == batchId)
            .ExecuteUpdateAsync(s => s.SetProperty(b => b.Excluded, true).SetProperty(b => b.ExcludedReason, reason), ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>The reason a batch was excluded for good, or null.</summary>
    private Task<string?> FinalReasonAsync(Guid batchId, CancellationToken ct) =>
        db.Database.SqlQuery<string>($"SELECT reason AS \"Value\" FROM trainer.excluded_batches WHERE batch_id = {batchId}").SingleOrDefaultAsync(ct);
}
