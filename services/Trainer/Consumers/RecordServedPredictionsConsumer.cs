using Ctm.Contracts;
using Ctm.Trainer.Quality;
using MassTransit;

namespace Ctm.Trainer.Consumers;

/// <summary>Keeps the keyed predictions a Predictor served and joins the labels already waiting for them.</summary>
public sealed class RecordServedPredictionsConsumer(FeedbackStore store) : IConsumer<PredictionsServed>
{
    public Task Consume(ConsumeContext<PredictionsServed> context) => store.RecordPredictionsAsync(context.Message, context.CancellationToken);
}
