using Ctm.Contracts;
using Ctm.Trainer.Storage;
using MassTransit;

namespace Ctm.Trainer.Consumers;

/// <summary>A batch declared corrupt is never trained on again.</summary>
public sealed class ExcludeCorruptBatchConsumer(BatchLedger ledger) : IConsumer<BatchDeclaredCorrupt>
{
    public Task Consume(ConsumeContext<BatchDeclaredCorrupt> context) =>
        ledger.ExcludeAsync(context.Message.BatchId, context.Message.Dataset,
            $"declared corrupt by {context.Message.Operator}: {context.Message.Reason}", final: true, context.Message.DeclaredAt, context.CancellationToken);
}
