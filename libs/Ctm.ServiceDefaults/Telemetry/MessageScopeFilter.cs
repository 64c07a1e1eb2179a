using System.Collections;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace Ctm.ServiceDefaults.Telemetry;

/// <summary>
/// Puts a consumed message's dataset, batch id and model version into the log scope and onto the consume span, so
/// every log line a consumer writes, and the trace, can be found by batch or version without each consumer doing it.
/// </summary>
/// <typeparam name="T">The message type.</typeparam>
public sealed class MessageScopeFilter<T>(ILogger<MessageScopeFilter<T>> logger) : IFilter<ConsumeContext<T>>
    where T : class
{
    // Contracts name these alike across messages; a message without them gets no entry.
    private static readonly (string Key, PropertyInfo Property)[] Keys = new[] { ("Dataset", "ctm.dataset"), ("BatchId", "ctm.batch_id"), ("Version", "ctm.version") }
        .Select(k => (k.Item2, typeof(T).GetProperty(k.Item1, BindingFlags.Public | BindingFlags.Instance)))
        .Where(k => k.Item2 is not null)
        .Select(k => (k.Item1, k.Item2!))
        .ToArray();

    /// <inheritdoc />
    public async Task Send(ConsumeContext<T> context, IPipe<ConsumeContext<T>> next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (Keys.Length == 0)
        {
            await next.Send(context);
            return;
        }

        var scope = new MessageScope();
        foreach (var (key, property) in Keys)
        {
            if (property.GetValue(context.Message) is { } value)
            {
                var text = Convert.ToString(value, CultureInfo.InvariantCulture);
                scope.Add(new(key, text));
                Activity.Current?.SetTag(key, text);
            }
        }

        using (logger.BeginScope(scope))
        {
            await next.Send(context);
        }
    }

    /// <inheritdoc />
    public void Probe(ProbeContext context) => context?.CreateFilterScope("ctm-message-scope");

    // Structured for the OpenTelemetry and JSON log providers (key-value pairs), readable for the simple console (ToString).
    private sealed class MessageScope : IReadOnlyList<KeyValuePair<string, object?>>
    {
        private readonly List<KeyValuePair<string, object?>> _entries = new(3);

        public int Count => _entries.Count;

        public KeyValuePair<string, object?> this[int index] => _entries[index];

        public void Add(KeyValuePair<string, object?> entry) => _entries.Add(entry);

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => _entries.GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => string.Join(" ", _entries.Select(e => $"{e.Key}={e.Value}"));
    }
}
