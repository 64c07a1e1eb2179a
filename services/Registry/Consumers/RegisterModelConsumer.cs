using Ctm.Contracts;
using Ctm.Registry.Models;
using MassTransit;

namespace Ctm.Registry.Consumers;

public sealed class RegisterModelConsumer(ModelRegistration registration) : IConsumer<ModelTrained>
{
    public Task Consume(ConsumeContext<ModelTrained> context) =>
        registration.RegisterAsync(context.Message, context.CancellationToken);
}
