using Ctm.Contracts;
using Ctm.ServiceDefaults.Messaging;
using Ctm.Validator.Validation;
using MassTransit;

namespace Ctm.Validator.Consumers;

/// <summary>
/// Decides each ingested batch. A batch that can never be validated (its content unreadable, a value the database
/// refuses) is recorded as failed with the reason, so operators see it on the batch API, and the message goes to the
/// error queue at once (the bus does not retry permanent failures); any other failure is retried until it works.
/// </summary>
public sealed class ValidateBatchConsumer(BatchValidation validation) : IConsumer<BatchIngested>
{
    public async Task Consume(ConsumeContext<BatchIngested> context)
    {
        try
        {
            await validation.ValidateAsync(context.Message, context.CancellationToken);
        }
        catch (Exception e) when (Failures.IsPermanent(e))
        {
            await validation.RecordFailedAsync(context.Message, Failures.Describe(e), context.CancellationToken);
            throw;
        }
    }
}
