using System.Diagnostics;
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

        var values = new Dictionary<string, object?>(Keys.Length, StringComparer.Ordinal);
        foreach (var (key, property) in Keys)
        {
            if (property.GetValue(context.Message) is { } value)
            {
                values[key] = value;
                Activity.Current?.SetTag(key, value);
            }
        }

        using (logger.BeginScope(values))
        {
            await next.Send(context);
        }
    }

    /// <inheritdoc />
    public void Probe(ProbeContext context) => context?.CreateFilterScope("ctm-message-scope");
}
