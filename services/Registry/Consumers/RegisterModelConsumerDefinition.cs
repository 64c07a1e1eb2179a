using MassTransit;

namespace Ctm.Registry.Consumers;

/// <summary>
/// Trained versions are registered one at a time, in the order the Trainer committed them: concurrent dispatch let
/// a run trained on fewer batches be registered after (and promoted over) the run that followed it. One replica at
/// a time consumes the queue (RabbitMQ's single active consumer; the others stand by).
/// </summary>
public sealed class RegisterModelConsumerDefinition : ConsumerDefinition<RegisterModelConsumer>
{
    public RegisterModelConsumerDefinition() => ConcurrentMessageLimit = 1;

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<RegisterModelConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        endpointConfigurator.ConcurrentMessageLimit = 1;
        if (endpointConfigurator is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            rabbit.SingleActiveConsumer = true;
        }
    }
}
