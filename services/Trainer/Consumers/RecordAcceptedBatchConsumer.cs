using System.Text.Json;
using Ctm.Contracts;
using Ctm.ServiceDefaults.Storage;
using Ctm.ServiceDefaults.Telemetry;
using Ctm.Trainer.Storage;
using Ctm.Trainer.Training;
using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace Ctm.Trainer.Consumers;

/// <summary>
/// Records an accepted batch and a training job for it, then acknowledges; the worker trains when the dataset's
/// policy says so. Every accepted batch gets its job (its trigger); a run answers the jobs it took.
/// </summary>
public sealed class RecordAcceptedBatchConsumer(TrainerDbContext db, TrainingSignal signal, TimeProvider clock) : IConsumer<BatchAccepted>
{
    public async Task Consume(ConsumeContext<BatchAccepted> context)
    {
        var m = context.Message;
        var ct = context.CancellationToken;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        if (!await db.TryMarkProcessedAsync("record-accepted-batch", $"{m.BatchId}:{(m.Released ? "released" : "accepted")}", ct))
        {
            return;
        }

        var finalExclusion = await BatchExclusion.FinalReasonAsync(db, m.BatchId, ct);
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
                Features = JsonSerializer.Serialize(m.Features, JsonSerializerOptions.Web),
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
}
