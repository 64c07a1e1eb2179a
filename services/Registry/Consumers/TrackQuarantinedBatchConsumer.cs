using Ctm.Contracts;
using Ctm.Registry.Lineage;
using MassTransit;

namespace Ctm.Registry.Consumers;

public sealed class TrackQuarantinedBatchConsumer(BatchTracker batches) : IConsumer<BatchQuarantined>
{
    public Task Consume(ConsumeContext<BatchQuarantined> context)
    {
        var m = context.Message;
        return batches.RecordAsync(m.Dataset, m.BatchId, BatchState.Quarantined, m.QuarantinedAt, m.Operator,
            new { reasons = m.Reasons.Select(r => r.Description) }, new BatchFacts(SchemaVersion: m.SchemaVersion), context.CancellationToken);
    }
}
