using Ctm.Contracts;
using Ctm.Trainer.Storage;
using MassTransit;

namespace Ctm.Trainer.Consumers;

/// <summary>A discarded batch is never trained on.</summary>
public sealed class ExcludeDiscardedBatchConsumer(BatchLedger ledger) : IConsumer<BatchDiscarded>
{
    public Task Consume(ConsumeContext<BatchDiscarded> context) =>
        ledger.ExcludeAsync(context.Message.BatchId, context.Message.Dataset,
            $"discarded by {context.Message.Operator}: {context.Message.Reason}", final: true, context.Message.DiscardedAt, context.CancellationToken);
}
