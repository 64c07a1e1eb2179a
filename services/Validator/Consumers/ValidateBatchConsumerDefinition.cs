using MassTransit;

namespace Ctm.Validator.Consumers;

/// <summary>
/// Batches of one dataset are decided one at a time, in the order Ingest committed them: the first batch fixes
/// the schema, and drift is measured against the batches before it. Different datasets still run in parallel.
/// </summary>
public sealed class ValidateBatchConsumerDefinition : ConsumerDefinition<ValidateBatchConsumer>
{
    private const int Partitions = 16;

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<ValidateBatchConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        var partitioner = endpointConfigurator.CreatePartitioner(Partitions);
        consumerConfigurator.Message<Ctm.Contracts.BatchIngested>(m => m.UsePartitioner(partitioner, c => c.Message.Dataset));
    }
}
