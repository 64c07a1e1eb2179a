using MassTransit;

namespace Ctm.Validator.Consumers;

/// <summary>
/// Batches of one dataset are decided one at a time, in the order Ingest committed them: the first batch fixes
/// the schema, and drift is measured against the batches before it. Messages are handled one at a time in queue
/// order (concurrent dispatch would let a later batch overtake an earlier one before the partitioner's lock),
/// and one replica at a time consumes the queue (RabbitMQ's single active consumer; the others stand by).
/// The partitioner keeps a dataset's batches sequential should the concurrency ever be raised.
/// </summary>
public sealed class ValidateBatchConsumerDefinition : ConsumerDefinition<ValidateBatchConsumer>
{
    private const int Partitions = 16;

    public ValidateBatchConsumerDefinition() => ConcurrentMessageLimit = 1;

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<ValidateBatchConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        endpointConfigurator.ConcurrentMessageLimit = 1;
        if (endpointConfigurator is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            rabbit.SingleActiveConsumer = true;
        }

        var partitioner = endpointConfigurator.CreatePartitioner(Partitions);
        consumerConfigurator.Message<Ctm.Contracts.BatchIngested>(m => m.UsePartitioner(partitioner, c => c.Message.Dataset));
    }
}
