using Ctm.Contracts;
using Ctm.Trainer.Storage;
using Ctm.Trainer.Training;
using MassTransit;

namespace Ctm.Trainer.Consumers;

/// <summary>Records a retrain request as a job that is due at once, whatever the policy says; then acknowledges.</summary>
public sealed class RequestRetrainConsumer(TrainerDbContext db, BatchLedger ledger, TrainingSignal signal, TimeProvider clock) : IConsumer<RequestRetrain>
{
    public async Task Consume(ConsumeContext<RequestRetrain> context)
    {
        var m = context.Message;
        // A rollback's BatchDeclaredCorrupt messages travel on another queue and may arrive after this request: exclude
        // its batches first (idempotent), so the job never exists while one of them could still be trained on.
        foreach (var batch in m.ExcludeBatchIds ?? [])
        {
            await ledger.ExcludeAsync(batch, m.Dataset, m.ExcludeReason ?? $"excluded by {m.RequestedBy}'s retrain request", final: true, clock.GetUtcNow(), context.CancellationToken);
        }

        await RetrainRequests.RecordAsync(db, m.RequestId, m.Dataset, m.FromVersion, m.FullRetrain, m.RequestedBy, m.CorrelationId, clock.GetUtcNow(), context.CancellationToken);
        signal.Notify();
    }
}
