using System.Text.Json;
using Ctm.Contracts;
using Ctm.ServiceDefaults.Messaging;
using Ctm.Trainer.Quality;
using MassTransit;

namespace Ctm.Trainer.Consumers;

/// <summary>
/// Takes plain JSON label events off the label exchange (any AMQP client, no MassTransit envelope) and joins each to the
/// predictions served with its key, now or when they arrive. A repeated key counts once; an event without a dataset,
/// key or label is refused with the reason and not retried.
/// </summary>
public sealed class RecordLabelEventConsumer(FeedbackStore store, TimeProvider clock) : IConsumer<LabelEvent>
{
    public async Task Consume(ConsumeContext<LabelEvent> context)
    {
        var m = context.Message;
        if (string.IsNullOrWhiteSpace(m.Dataset))
        {
            throw new PermanentFailureException("the label event has no 'dataset'");
        }

        var key = Text(m.Key) ?? throw new PermanentFailureException($"the label event of {m.Dataset} has no 'key' (the example key its prediction was served with)");
        var label = Text(m.Label) ?? throw new PermanentFailureException($"the label event of {m.Dataset} for key '{key}' has no 'label'");
        await store.RecordLabelsAsync(m.Dataset, [new KeyedLabel(key, label, m.LabeledAt ?? clock.GetUtcNow())], "bus", batchId: null, context.CancellationToken);
    }

    /// <summary>A string as its text, a number or boolean as written (as a CSV cell would carry it); null, objects and arrays are no key or label.</summary>
    internal static string? Text(JsonElement? value) => value switch
    {
        { ValueKind: JsonValueKind.String } s when s.GetString() is { Length: > 0 } text => text,
        { ValueKind: JsonValueKind.Number } n => n.GetRawText(),
        { ValueKind: JsonValueKind.True } => "true",
        { ValueKind: JsonValueKind.False } => "false",
        _ => null,
    };
}
