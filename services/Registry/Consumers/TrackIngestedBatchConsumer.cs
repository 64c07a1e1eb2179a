using Ctm.Contracts;
using Ctm.Registry.Lineage;
using MassTransit;

namespace Ctm.Registry.Consumers;

/// <summary>Records a batch when Ingest stored it, with its ingestion time and upstream, by which rollbacks select batches.</summary>
public sealed class TrackIngestedBatchConsumer(BatchTracker batches) : IConsumer<BatchIngested>
{
    public Task Consume(ConsumeContext<BatchIngested> context)
    {
        var m = context.Message;
        return batches.RecordAsync(m.Dataset, m.BatchId, BatchState.Ingested, m.IngestedAt, null, new { m.Source, m.Upstream, m.ByteCount, m.Columns },
            new BatchFacts(m.RowCount, m.Sha256, m.Location, IngestedAt: m.IngestedAt, Upstream: m.Upstream), context.CancellationToken);
    }
}
