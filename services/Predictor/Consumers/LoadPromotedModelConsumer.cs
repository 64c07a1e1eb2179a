using Ctm.Contracts;
using Ctm.Predictor.Models;
using MassTransit;

namespace Ctm.Predictor.Consumers;

/// <summary>Loads every promotion (each replica has its own queue: fan-out).</summary>
public sealed class LoadPromotedModelConsumer(ModelLoader loader) : IConsumer<ModelPromoted>
{
    public Task Consume(ConsumeContext<ModelPromoted> context)
    {
        var m = context.Message;
        return loader.LoadPromotedAsync(new PromotionToLoad(m.Dataset, m.Version, m.Generation, m.ArtifactLocation, m.ArtifactSha256, m.CorrelationId, m.InputMapping), context.CancellationToken);
    }
}
