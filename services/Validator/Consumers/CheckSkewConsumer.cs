using Ctm.Contracts;
using Ctm.Validator.Skew;
using MassTransit;

namespace Ctm.Validator.Consumers;

/// <summary>A Predictor replica's serving statistics, checked against the serving version's training baseline.</summary>
public sealed class CheckSkewConsumer(SkewService skew) : IConsumer<ServingStatisticsReported>
{
    public Task Consume(ConsumeContext<ServingStatisticsReported> context) =>
        skew.CheckAsync(context.MessageId ?? NewId.NextGuid(), context.Message, context.CancellationToken);
}
