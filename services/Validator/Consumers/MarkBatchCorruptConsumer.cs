using Ctm.Contracts;
using Ctm.Validator.Quarantine;
using MassTransit;

namespace Ctm.Validator.Consumers;

/// <summary>A rollback declared a batch corrupt: its status becomes <c>corrupt</c> and it leaves the drift window.</summary>
public sealed class MarkBatchCorruptConsumer(QuarantineService quarantine) : IConsumer<BatchDeclaredCorrupt>
{
    public Task Consume(ConsumeContext<BatchDeclaredCorrupt> context) => quarantine.MarkCorruptAsync(context.Message, context.CancellationToken);
}
