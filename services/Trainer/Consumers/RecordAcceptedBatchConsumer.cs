using Ctm.Contracts;
using Ctm.Trainer.Storage;
using MassTransit;

namespace Ctm.Trainer.Consumers;

/// <summary>Records an accepted batch and its training job (<see cref="BatchLedger.RecordAcceptedAsync"/>), then acknowledges.</summary>
public sealed class RecordAcceptedBatchConsumer(BatchLedger ledger) : IConsumer<BatchAccepted>
{
    public Task Consume(ConsumeContext<BatchAccepted> context) => ledger.RecordAcceptedAsync(context.Message, context.CancellationToken);
}
