using Ctm.Contracts;
using Ctm.Trainer.Storage;
using MassTransit;

namespace Ctm.Trainer.Consumers;

/// <summary>A batch declared corrupt is never trained on again.</summary>
public sealed class ExcludeCorruptBatchConsumer(TrainerDbContext db) : IConsumer<BatchDeclaredCorrupt>
{
    public Task Consume(ConsumeContext<BatchDeclaredCorrupt> context) =>
        BatchExclusion.ExcludeAsync(db, context.Message.BatchId, context.Message.Dataset,
            $"declared corrupt by {context.Message.Operator}: {context.Message.Reason}", final: true, context.Message.DeclaredAt, context.CancellationToken);
}
