using Ctm.Contracts;
using Ctm.Registry.Lineage;
using MassTransit;

namespace Ctm.Registry.Consumers;

public sealed class TrackDiscardedBatchConsumer(BatchTracker batches) : IConsumer<BatchDiscarded>
{
    public Task Consume(ConsumeContext<BatchDiscarded> context)
    {
        var m = context.Message;
        return batches.RecordAsync(m.Dataset, m.BatchId, BatchState.Discarded, m.DiscardedAt, m.Operator, new { m.Reason }, null, context.CancellationToken);
    }
}
