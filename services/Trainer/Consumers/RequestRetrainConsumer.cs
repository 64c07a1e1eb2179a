using Ctm.Contracts;
using Ctm.Trainer.Storage;
using Ctm.Trainer.Training;
using MassTransit;

namespace Ctm.Trainer.Consumers;

/// <summary>Records a retrain request as a job that is due at once, whatever the policy says; then acknowledges.</summary>
public sealed class RequestRetrainConsumer(TrainerDbContext db, TrainingSignal signal, TimeProvider clock) : IConsumer<RequestRetrain>
{
    public async Task Consume(ConsumeContext<RequestRetrain> context)
    {
        var m = context.Message;
        await RetrainRequests.RecordAsync(db, m.RequestId, m.Dataset, m.FromVersion, m.FullRetrain, m.RequestedBy, m.CorrelationId, clock.GetUtcNow(), context.CancellationToken);
        signal.Notify();
    }
}
