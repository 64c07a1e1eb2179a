using Ctm.Contracts;
using Ctm.Registry.Rollbacks;
using Ctm.ServiceDefaults.Signing;
using MassTransit;

namespace Ctm.Registry.Consumers;

/// <summary>
/// An operator's rollback over the bus. Anyone who may publish to the bus could send one, so it acts only when it
/// carries a valid signature by the configured operator key; otherwise it is refused and audited (nothing else changes).
/// A refusal is recorded in the audit log and the message is acknowledged.
/// </summary>
public sealed class RollbackConsumer(RollbackService rollbacks, OperatorKey operators) : IConsumer<RequestRollback>
{
    public Task Consume(ConsumeContext<RequestRollback> context)
    {
        var m = context.Message;
        var batches = BatchSelector.Of(m.CorruptBatchId, m.CorruptBatchIds, m.IngestedFrom, m.IngestedTo, m.Upstream);
        var command = new RollbackCommand(m.RequestId, m.Dataset, m.TargetVersion, batches, m.Reason, m.Operator, m.Force, m.Retrain, m.CorrelationId);
        if (operators.Verifier is not { } verifier)
        {
            return rollbacks.RefuseUnauthenticatedAsync(command, "no operator key is configured (Signing:OperatorPublicKeyPem), so rollbacks over the bus are refused; use the HTTP API", context.CancellationToken);
        }

        if (!verifier.Verify(SignedPayload.Rollback(m), m.Signature))
        {
            return rollbacks.RefuseUnauthenticatedAsync(command, m.Signature is null ? "the request carries no operator signature" : "the operator signature does not verify", context.CancellationToken);
        }

        return rollbacks.RollbackAsync(command, context.CancellationToken);
    }
}
