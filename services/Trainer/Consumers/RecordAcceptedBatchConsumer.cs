using System.Text.Json;
using Ctm.Contracts;
using Ctm.ServiceDefaults.Storage;
using Ctm.Trainer.Storage;
using Ctm.Trainer.Training;
using MassTransit;

namespace Ctm.Trainer.Consumers;

/// <summary>Records an accepted batch and a training job for it, then acknowledges; the worker trains.</summary>
public sealed class RecordAcceptedBatchConsumer(TrainerDbContext db, TrainingSignal signal, TimeProvider clock) : IConsumer<BatchAccepted>
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task Consume(ConsumeContext<BatchAccepted> context)
    {
        var m = context.Message;
        var ct = context.CancellationToken;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        if (!await db.TryMarkProcessedAsync("record-accepted-batch", m.BatchId.ToString(), ct))
        {
            return;
        }

        var batch = await db.Batches.FindAsync([m.BatchId], ct);
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
                Features = JsonSerializer.Serialize(m.Features, Json),
                LabelColumn = m.LabelColumn,
                Task = m.Task,
                AcceptedAt = m.AcceptedAt,
            });
        }
        else if (m.Released)
        {
            batch.Excluded = false;
            batch.ExcludedReason = null;
        }

        db.Jobs.Add(new TrainingJob
        {
            Id = NewId.NextGuid(),
            Dataset = m.Dataset,
            TriggerKey = $"batch:{m.BatchId}:{(m.Released ? "released" : "accepted")}",
            Reason = m.Released ? "batch-released" : "batch-accepted",
            CorrelationId = m.CorrelationId,
            Status = "pending",
            CreatedAt = clock.GetUtcNow(),
        });
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        signal.Notify();
    }
}
