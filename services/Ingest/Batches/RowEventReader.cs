using System.Text.Json;
using Ctm.Contracts;
using Ctm.Data.Parsing;
using Ctm.Ingest.Extensions;

namespace Ctm.Ingest.Batches;

/// <summary>A row event that passed every check: its rows as the JSON objects to store, in order.</summary>
/// <param name="Rows">Each row's JSON object, checked against the limits.</param>
/// <param name="Single">Whether the event carried one <c>row</c> rather than <c>rows</c>.</param>
public sealed record CheckedRowEvent(IReadOnlyList<string> Rows, bool Single)
{
    /// <summary>The event's dataset, a valid name.</summary>
    public required string Dataset { get; init; }

    /// <summary>The upstream that sent the event, if it named one (a valid name).</summary>
    public string? Upstream { get; init; }
}

/// <summary>
/// Checks a row event off the bus before anything is written: its size, dataset and source names, and every row
/// (scalars only, within the limits, no key twice). A bad row refuses the whole event. Every refusal is a
/// <see cref="TabularFormatException"/> naming the event, the row (as its line) and the field.
/// </summary>
public static class RowEventReader
{
    /// <summary>Checks <paramref name="message"/>, whose body was <paramref name="bodyBytes"/> long.</summary>
    /// <param name="message">The deserialized event.</param>
    /// <param name="bodyBytes">The size of the message body as it came off the bus.</param>
    /// <param name="eventId">The event's id (its own, else the transport's), for error messages.</param>
    /// <param name="limits">Ingest's input limits.</param>
    public static CheckedRowEvent Check(RowEvent message, long bodyBytes, string? eventId, IngestLimits limits)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(limits);
        var source = $"row event {eventId ?? "(no id)"}";
        if (bodyBytes > limits.MaxEventBytes)
        {
            throw new TabularFormatException(
                $"the event is {bodyBytes} bytes; the limit is {limits.MaxEventBytes} (setting Ingest:Limits:MaxEventBytes)", source, 1, 1, limit: nameof(IngestLimits.MaxEventBytes));
        }

        if (DatasetName.Problem(message.Dataset) is { } problem)
        {
            throw new TabularFormatException(problem, source, 1, 1, "dataset");
        }

        if (UpstreamName.Problem(message.Source) is { } sourceProblem)
        {
            throw new TabularFormatException(sourceProblem, source, 1, 1, "source");
        }

        var rows = message.Rows ?? (message.Row is { } one ? [one] : []);
        if (rows.Count == 0)
        {
            throw new TabularFormatException("the event has neither 'row' nor 'rows'", source, 1, 1);
        }

        var tabular = limits.ToTabular();
        var json = new List<string>(rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            JsonLinesReader.ReadObject(rows[i], source, i + 1, tabular);

            // Written anew rather than kept as sent: the bus's reader allows trailing commas and comments, which
            // PostgreSQL's jsonb refuses (the fuzz run found this), so the raw text could never be stored.
            json.Add(JsonSerializer.Serialize(rows[i]));
        }

        return new CheckedRowEvent(json, message.Rows is null) { Dataset = message.Dataset!, Upstream = message.Source };
    }
}
