using Ctm.Contracts;
using Ctm.Registry.Rollbacks;
using MassTransit;

namespace Ctm.Registry.Consumers;

/// <summary>An operator's rollback over the bus. A refusal is recorded in the audit log (nothing else changes) and the message is acknowledged.</summary>
public sealed class RollbackConsumer(RollbackService rollbacks) : IConsumer<RequestRollback>
{
    public Task Consume(ConsumeContext<RequestRollback> context)
    {
        var m = context.Message;
        var batches = BatchSelector.Of(m.CorruptBatchId, m.CorruptBatchIds, m.IngestedFrom, m.IngestedTo, m.Upstream);
        return rollbacks.RollbackAsync(new RollbackCommand(m.RequestId, m.Dataset, m.TargetVersion, batches, m.Reason, m.Operator, m.Force, m.Retrain, m.CorrelationId), context.CancellationToken);
    }
}
