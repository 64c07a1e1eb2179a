using MassTransit;

namespace Ctm.Trainer.Consumers;

/// <summary>
/// One accepted batch at a time per replica: the Validator publishes a dataset's decisions in order, and recording
/// them in that order keeps the Trainer's batch order (which decides what each version trains on) the same.
/// Recording is one small transaction, so this costs little.
/// </summary>
public sealed class RecordAcceptedBatchConsumerDefinition : ConsumerDefinition<RecordAcceptedBatchConsumer>
{
    public RecordAcceptedBatchConsumerDefinition() => ConcurrentMessageLimit = 1;
}
