using System.Text.Json;

namespace Ctm.Contracts;

/// <summary>
/// The plain JSON that upstream systems (any AMQP client, no MassTransit envelope) publish to Ingest's row
/// exchange: one row or several for a dataset. Ingest gathers rows into batches by count and time.
/// <code>{"dataset": "churn", "eventId": "order-42", "source": "crm", "row": {"tenure": 3, "plan": "pro", "churned": "no"}}</code>
/// </summary>
public sealed record RowEvent
{
    /// <summary>The dataset the rows belong to.</summary>
    public string? Dataset { get; init; }
    /// <summary>The upstream's id for the event; a repeated id is stored once. Falls back to the AMQP message id.</summary>
    public string? EventId { get; init; }
    /// <summary>
    /// The upstream system the rows come from (named like a dataset), or null. Rows of different sources are cut into
    /// different batches, so a batch has one upstream (<see cref="BatchIngested.Upstream"/>).
    /// </summary>
    public string? Source { get; init; }
    /// <summary>
    /// One row: a JSON object of column name to a scalar (string, number, boolean or null). Kept as JSON, not a
    /// dictionary, so that a key given twice or a string that is not valid Unicode is refused by Ingest with its
    /// reason instead of failing deserialization on the bus.
    /// </summary>
    public JsonElement? Row { get; init; }
    /// <summary>Several rows, each like <see cref="Row"/>.</summary>
    public IReadOnlyList<JsonElement>? Rows { get; init; }
}
