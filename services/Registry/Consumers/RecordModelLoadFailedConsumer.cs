using Ctm.Contracts;
using Ctm.Registry.Serving;
using MassTransit;

namespace Ctm.Registry.Consumers;

/// <summary>A replica refused a version: recorded per replica and audited; the serving record keeps what serves.</summary>
public sealed class RecordModelLoadFailedConsumer(ServingRecord record) : IConsumer<ModelLoadFailed>
{
    public Task Consume(ConsumeContext<ModelLoadFailed> context) => record.RefuseAsync(context.Message, context.CancellationToken);
}
