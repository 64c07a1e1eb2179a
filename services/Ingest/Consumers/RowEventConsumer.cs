using Ctm.Contracts;
using Ctm.Data.Parsing;
using Ctm.Ingest.Batches;
using Ctm.Ingest.Extensions;
using Ctm.Ingest.Storage;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Ctm.Ingest.Consumers;

/// <summary>
/// Takes plain JSON row events off the row exchange and commits them as pending rows; the batcher cuts them
/// into batches. A row event is acknowledged only once its rows are committed. An event's id (its <c>eventId</c>, else
/// the AMQP message id, whatever its form) is remembered for <see cref="RowEventOptions.DedupeWindowHours"/>, so a
/// repeat is stored once even after its rows were cut into a batch. Malformed events, and events beyond the limits,
/// are refused with their reason and not retried (<see cref="TabularFormatException"/> is a permanent failure): they go
/// to the error queue at once.
/// </summary>
public sealed class RowEventConsumer(RowEventStore store, IOptions<IngestOptions> options) : IConsumer<RowEvent>
{
    public async Task Consume(ConsumeContext<RowEvent> context)
    {
        var message = context.Message;
        var transportId = context.ReceiveContext.TryGetPayload<RabbitMqBasicConsumeContext>(out var rabbit) ? rabbit.Properties.MessageId : null;
        var eventId = message.EventId ?? transportId ?? context.MessageId?.ToString();
        var checkedEvent = RowEventReader.Check(message, context.ReceiveContext.Body.Length ?? 0, eventId, options.Value.Limits);
        await store.RecordAsync(checkedEvent, eventId ?? NewId.NextGuid().ToString(), context.CancellationToken);
    }
}
