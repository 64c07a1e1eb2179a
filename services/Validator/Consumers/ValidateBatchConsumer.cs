using Ctm.Contracts;
using Ctm.Validator.Validation;
using MassTransit;

namespace Ctm.Validator.Consumers;

public sealed class ValidateBatchConsumer(BatchValidation validation) : IConsumer<BatchIngested>
{
    public Task Consume(ConsumeContext<BatchIngested> context) =>
        validation.ValidateAsync(context.Message, context.CancellationToken);
}
