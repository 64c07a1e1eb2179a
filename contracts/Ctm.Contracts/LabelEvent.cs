using System.Text.Json;

namespace Ctm.Contracts;

/// <summary>
/// The plain JSON that upstream systems (any AMQP client, no MassTransit envelope) publish to the Trainer's label
/// exchange when the true outcome of a served prediction becomes known: the example key it was served with, and the
/// label. Labels may come before their prediction and more than once; each key counts once.
/// <code>{"dataset": "churn", "key": "order-42", "label": "yes"}</code>
/// </summary>
public sealed record LabelEvent
{
    /// <summary>The dataset (model name).</summary>
    public string? Dataset { get; init; }
    /// <summary>The example key the prediction was served with (a string, or a number as sent).</summary>
    public JsonElement? Key { get; init; }
    /// <summary>The true label: a class (string, number or boolean) or a regression target (number).</summary>
    public JsonElement? Label { get; init; }
    /// <summary>When the outcome was observed, or null for when it arrived.</summary>
    public DateTimeOffset? LabeledAt { get; init; }
}
