using Ctm.Contracts;
using Ctm.Trainer.Storage;
using MassTransit;

namespace Ctm.Trainer.Consumers;

/// <summary>A batch quarantined after it was accepted (an operator's action) is not trained on again unless released.</summary>
public sealed class ExcludeQuarantinedBatchConsumer(BatchLedger ledger, TimeProvider clock) : IConsumer<BatchQuarantined>
{
    public Task Consume(ConsumeContext<BatchQuarantined> context) =>
        ledger.ExcludeAsync(context.Message.BatchId, context.Message.Dataset,
            $"quarantined: {string.Join(" ", context.Message.Reasons.Select(r => r.Description))}", final: false, clock.GetUtcNow(), context.CancellationToken);
}
