using Ctm.Contracts;
using Ctm.Registry.Lineage;
using MassTransit;

namespace Ctm.Registry.Consumers;

public sealed class TrackIngestedBatchConsumer(BatchTracker batches) : IConsumer<BatchIngested>
{
    public Task Consume(ConsumeContext<BatchIngested> context)
    {
        var m = context.Message;
        return batches.RecordAsync(m.Dataset, m.BatchId, "ingested", m.IngestedAt, null, new { m.Source, m.ByteCount, m.Columns },
            new BatchFacts(m.RowCount, m.Sha256, m.Location), context.CancellationToken);
    }
}
