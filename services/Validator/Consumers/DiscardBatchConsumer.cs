using Ctm.Contracts;
using Ctm.Validator.Quarantine;
using MassTransit;

namespace Ctm.Validator.Consumers;

/// <summary>An operator's <see cref="DiscardBatch"/> from the bus: the same discard as the API's.</summary>
public sealed partial class DiscardBatchConsumer(QuarantineService quarantine, ILogger<DiscardBatchConsumer> logger) : IConsumer<DiscardBatch>
{
    public async Task Consume(ConsumeContext<DiscardBatch> context)
    {
        var m = context.Message;
        var (outcome, message) = await quarantine.DiscardAsync(m.BatchId, m.Operator, m.Reason, m.CorrelationId, context.CancellationToken);
        if (outcome is OperatorOutcome.NotFound or OperatorOutcome.Conflict)
        {
            LogRefused(m.BatchId, message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "DiscardBatch for {BatchId} refused: {Problem}")]
    private partial void LogRefused(Guid batchId, string problem);
}
