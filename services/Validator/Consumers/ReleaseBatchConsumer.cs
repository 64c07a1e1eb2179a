using Ctm.Contracts;
using Ctm.Validator.Quarantine;
using MassTransit;

namespace Ctm.Validator.Consumers;

/// <summary>An operator's <see cref="ReleaseBatch"/> from the bus: the same release as the API's.</summary>
public sealed partial class ReleaseBatchConsumer(QuarantineService quarantine, ILogger<ReleaseBatchConsumer> logger) : IConsumer<ReleaseBatch>
{
    public async Task Consume(ConsumeContext<ReleaseBatch> context)
    {
        var m = context.Message;
        var (outcome, message) = await quarantine.ReleaseAsync(m.BatchId, m.Operator, m.Reason, m.CorrelationId, context.CancellationToken, m.ApplyProposals == true);
        if (outcome is OperatorOutcome.NotFound or OperatorOutcome.Conflict)
        {
            // A command that cannot apply is answered by a log line, not retried: retrying cannot change a batch's state.
            LogRefused(m.BatchId, message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "ReleaseBatch for {BatchId} refused: {Problem}")]
    private partial void LogRefused(Guid batchId, string problem);
}
