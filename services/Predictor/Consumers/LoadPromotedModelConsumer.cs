using Ctm.Contracts;
using Ctm.Predictor.Models;
using MassTransit;

namespace Ctm.Predictor.Consumers;

public sealed class LoadPromotedModelConsumer(ModelLoader loader) : IConsumer<ModelPromoted>
{
    public Task Consume(ConsumeContext<ModelPromoted> context)
    {
        var m = context.Message;
        return loader.LoadAsync(m.Dataset, m.Version, m.Generation, m.ArtifactLocation, m.ArtifactSha256, context.CancellationToken);
    }
}
