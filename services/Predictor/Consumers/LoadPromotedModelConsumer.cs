using Ctm.Contracts;
using Ctm.Predictor.Models;
using MassTransit;

namespace Ctm.Predictor.Consumers;

/// <summary>Loads every promotion the Registry signed (each replica has its own queue: fan-out); a forged one is refused and reported.</summary>
public sealed class LoadPromotedModelConsumer(ModelLoader loader) : IConsumer<ModelPromoted>
{
    public Task Consume(ConsumeContext<ModelPromoted> context)
    {
        var m = context.Message;
        return loader.LoadPromotedAsync(new PromotionToLoad(m.Dataset, m.Version, m.Generation, m.ArtifactLocation, m.ArtifactSha256, m.CorrelationId, m.InputMapping, m.Signature), context.CancellationToken);
    }
}
