using Ctm.Contracts;
using Ctm.Validator.Skew;
using MassTransit;

namespace Ctm.Validator.Consumers;

/// <summary>Remembers which batches each training run used: a version's training baseline is the merge of their statistics.</summary>
public sealed class RecordModelTrainedConsumer(SkewService skew) : IConsumer<ModelTrained>
{
    public Task Consume(ConsumeContext<ModelTrained> context) => skew.RecordRunAsync(context.Message, context.CancellationToken);
}
