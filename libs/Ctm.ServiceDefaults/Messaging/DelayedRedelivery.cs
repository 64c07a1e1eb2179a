using System.Globalization;
using System.Text;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;

namespace Ctm.ServiceDefaults.Messaging;

/// <summary>
/// Redelivery that outlasts an outage and a restart, without RabbitMQ's delayed-message plugin (not installed here) or
/// a scheduler: when the in-process retries are spent on a failure that may pass, the message is parked, as received,
/// in a durable delay queue of its own queue (<c>{queue}_delay_{n}s</c>, <c>x-message-ttl</c> n seconds, reached through
/// a fanout exchange of the same name) that dead-letters it back to the work queue's endpoint exchange when the time is
/// up. Each redelivery waits the next of <see cref="RabbitMqOptions.RedeliveryDelaysSeconds"/>; after
/// <see cref="RabbitMqOptions.RedeliveryWindowMinutes"/> from the first failure the message goes to the error queue.
/// Permanent failures (<see cref="Failures"/>) are never parked. The copy is confirmed by the broker before the original
/// is acknowledged, so nothing is lost in between.
/// </summary>
public sealed partial class DelayedRedeliveryFilter(BrokerChannel broker, IOptions<RabbitMqOptions> options, TimeProvider clock, ILogger<DelayedRedeliveryFilter> logger)
    : IFilter<ConsumeContext>
{
    /// <summary>How many times the message was parked so far.</summary>
    public const string RedeliveriesHeader = "ctm-redeliveries";

    /// <summary>When the message first failed (Unix milliseconds).</summary>
    public const string FirstFailureHeader = "ctm-first-failure";

    /// <summary>The last failure's reason.</summary>
    public const string ReasonHeader = "ctm-redelivery-reason";

    /// <inheritdoc />
    public async Task Send(ConsumeContext context, IPipe<ConsumeContext> next)
    {
        try
        {
            await next.Send(context);
        }
        catch (Exception e) when (!Failures.IsPermanent(e) && !context.CancellationToken.IsCancellationRequested
            && context.ReceiveContext.TryGetPayload<RabbitMqBasicConsumeContext>(out var rabbit))
        {
            var settings = options.Value;
            var headers = rabbit.Properties.Headers;
            var redeliveries = (int)(ReadLong(headers, RedeliveriesHeader) ?? 0);
            var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
            var firstFailure = ReadLong(headers, FirstFailureHeader) ?? now;
            var queue = QueueName(context.ReceiveContext.InputAddress);
            if (now - firstFailure >= settings.RedeliveryWindowMinutes * 60_000)
            {
                LogGaveUp(e, queue, redeliveries, Failures.Describe(e));
                throw new RedeliveryExhaustedException(
                    $"gave up after {redeliveries} redeliveries over {TimeSpan.FromMilliseconds(now - firstFailure):g} (setting RabbitMq:RedeliveryWindowMinutes): {Failures.Describe(e)}", e);
            }

            var delays = settings.Delays;
            var delay = delays[Math.Min(redeliveries, delays.Count - 1)];
            var reason = Failures.Describe(e);
            await ParkAsync(queue, delay, rabbit, context.ReceiveContext.Body.GetBytes(), redeliveries + 1, firstFailure, reason, context.CancellationToken);
            LogParked(queue, context.MessageId?.ToString() ?? rabbit.Properties.MessageId, delay, redeliveries + 1, reason);
        }
    }

    /// <inheritdoc />
    public void Probe(ProbeContext context) => context.CreateFilterScope("ctm-delayed-redelivery");

    /// <summary>The delay queue of <paramref name="queue"/> for <paramref name="seconds"/>.</summary>
    public static string DelayQueue(string queue, int seconds) => $"{queue}_delay_{seconds.ToString(CultureInfo.InvariantCulture)}s";

    private Task<bool> ParkAsync(
        string queue, int seconds, RabbitMqBasicConsumeContext rabbit, byte[] body, int redeliveries, long firstFailure, string reason, CancellationToken ct) =>
        broker.RunAsync(async channel =>
        {
            var delayQueue = DelayQueue(queue, seconds);
            // Through exchanges of the queue's own, never the default exchange: a service's broker user may write only
            // to its own names, and write on the default exchange would let it put anything on any queue. The delay
            // queue dead-letters to the work queue's endpoint exchange (MassTransit binds it to the queue of that name).
            await channel.QueueDeclareAsync(delayQueue, durable: true, exclusive: false, autoDelete: false, arguments: new Dictionary<string, object?>
            {
                ["x-message-ttl"] = seconds * 1000,
                ["x-dead-letter-exchange"] = queue,
            }, cancellationToken: ct);
            await channel.ExchangeDeclareAsync(delayQueue, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: ct);
            await channel.QueueBindAsync(delayQueue, delayQueue, string.Empty, cancellationToken: ct);
            var source = rabbit.Properties;
            var headers = Copy(source.Headers);
            headers[RedeliveriesHeader] = redeliveries;
            headers[FirstFailureHeader] = firstFailure;
            headers[ReasonHeader] = reason.Length > 1000 ? reason[..1000] : reason;
            await channel.BasicPublishAsync(delayQueue, string.Empty, mandatory: true, Republished(source, headers), body, ct);
            return true;
        }, ct);

    /// <summary>
    /// Persistent properties for publishing a received message again (to a delay queue, or back from its error queue):
    /// its content type and encoding, ids, type and app id, with <paramref name="headers"/>.
    /// </summary>
    internal static BasicProperties Republished(IReadOnlyBasicProperties source, IDictionary<string, object?> headers) => new()
    {
        Persistent = true,
        ContentType = source.ContentType,
        ContentEncoding = source.ContentEncoding,
        MessageId = source.MessageId,
        CorrelationId = source.CorrelationId,
        Type = source.Type,
        AppId = source.AppId,
        Headers = headers,
    };

    /// <summary>The headers to carry on: RabbitMQ's own dead-letter history is dropped so it does not grow with every round.</summary>
    internal static Dictionary<string, object?> Copy(IDictionary<string, object?>? headers)
    {
        var copy = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (headers is null)
        {
            return copy;
        }

        foreach (var (key, value) in headers)
        {
            if (!key.StartsWith("x-death", StringComparison.Ordinal) && !key.StartsWith("x-first-death", StringComparison.Ordinal)
                && !key.StartsWith("x-last-death", StringComparison.Ordinal))
            {
                copy[key] = value;
            }
        }

        return copy;
    }

    internal static long? ReadLong(IDictionary<string, object?>? headers, string key) =>
        headers is null || !headers.TryGetValue(key, out var value) ? null : value switch
        {
            int i => i,
            long l => l,
            byte[] b when long.TryParse(Encoding.UTF8.GetString(b), NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) => l,
            string s when long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) => l,
            _ => null,
        };

    internal static string QueueName(Uri inputAddress) => inputAddress.AbsolutePath.TrimEnd('/').Split('/')[^1];

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Queue}: message {MessageId} failed ({Reason}); redelivery {Redelivery} in {Seconds} s")]
    private partial void LogParked(string queue, string? messageId, int seconds, int redelivery, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Queue}: gave up after {Redeliveries} redeliveries; the message goes to the error queue: {Reason}")]
    private partial void LogGaveUp(Exception error, string queue, int redeliveries, string reason);
}
