using Ctm.Contracts;
using Ctm.Validator.Skew;
using MassTransit;

namespace Ctm.Validator.Consumers;

/// <summary>Remembers which run made each served version, so serving statistics of a version find their baseline.</summary>
public sealed class RecordModelPromotedConsumer(SkewService skew) : IConsumer<ModelPromoted>
{
    public Task Consume(ConsumeContext<ModelPromoted> context) => skew.RecordPromotionAsync(context.Message, context.CancellationToken);
}
