using Ctm.Contracts;
using Ctm.Registry.Serving;
using MassTransit;

namespace Ctm.Registry.Consumers;

/// <summary>A replica loaded a promoted version: the serving record follows (the first confirmation of a generation makes it the record).</summary>
public sealed class RecordModelLoadedConsumer(ServingRecord record) : IConsumer<ModelLoaded>
{
    public Task Consume(ConsumeContext<ModelLoaded> context)
    {
        var m = context.Message;
        return record.ConfirmAsync(m.Dataset, m.Replica, m.Version, m.Generation, m.ArtifactSha256, m.LoadedAt, context.CancellationToken);
    }
}
