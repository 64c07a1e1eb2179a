using Ctm.Contracts;
using Ctm.Registry.Lineage;
using MassTransit;

namespace Ctm.Registry.Consumers;

/// <summary>Records the acceptance (or release) and keeps the dataset's newest schema (<see cref="BatchTracker.RecordAcceptedAsync"/>).</summary>
public sealed class TrackAcceptedBatchConsumer(BatchTracker batches) : IConsumer<BatchAccepted>
{
    public Task Consume(ConsumeContext<BatchAccepted> context) => batches.RecordAcceptedAsync(context.Message, context.CancellationToken);
}
