using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using RabbitMQ.Client.Exceptions;

namespace Ctm.ServiceDefaults.Messaging;

/// <summary>
/// What operators need about messages that did not go through: every <c>_error</c> queue of the virtual host with its
/// depth and the reasons of its first messages (from MassTransit's fault headers, read through RabbitMQ's management
/// API), the messages waiting in delay queues, and a re-drive that moves an error queue's messages back to its work queue.
/// </summary>
public sealed partial class ErrorQueues(IHttpClientFactory http, BrokerChannel broker, IOptions<RabbitMqOptions> options)
{
    /// <summary>The named HTTP client for the management API.</summary>
    public const string ManagementClient = "rabbitmq-management";

    private const string ErrorSuffix = "_error";

    /// <summary>
    /// Every error queue and delay queue of the virtual host; <paramref name="samples"/> reasons per error queue, for the
    /// error queues this service's broker user may read (its own; another service's shows its depth only).
    /// </summary>
    public async Task<ErrorQueueReport> ListAsync(int samples, CancellationToken ct)
    {
        using var client = Management();
        var vhost = Uri.EscapeDataString(options.Value.VirtualHost);
        var queues = await client.GetFromJsonAsync<JsonElement>($"api/queues/{vhost}?columns=name,messages", ct);
        var errors = new List<ErrorQueueView>();
        var waiting = new List<DelayQueueView>();
        foreach (var queue in queues.EnumerateArray())
        {
            var name = queue.GetProperty("name").GetString()!;
            var depth = queue.TryGetProperty("messages", out var m) && m.ValueKind == JsonValueKind.Number ? m.GetInt64() : 0;
            if (name.EndsWith(ErrorSuffix, StringComparison.Ordinal))
            {
                var reasons = depth > 0 && samples > 0 ? await SamplesAsync(client, vhost, name, samples, ct) : [];
                errors.Add(new ErrorQueueView(name, name[..^ErrorSuffix.Length], depth, reasons));
            }
            else if (DelayQueue().Match(name) is { Success: true } delay)
            {
                waiting.Add(new DelayQueueView(name, delay.Groups["queue"].Value, int.Parse(delay.Groups["seconds"].Value, System.Globalization.CultureInfo.InvariantCulture), depth));
            }
        }

        return new ErrorQueueReport([.. errors.OrderByDescending(e => e.Messages).ThenBy(e => e.Queue, StringComparer.Ordinal)], [.. waiting.OrderBy(w => w.Queue, StringComparer.Ordinal)]);
    }

    /// <summary>
    /// Moves up to <paramref name="max"/> messages from <paramref name="errorQueue"/> back to its work queue, without
    /// their fault and redelivery headers, so they are handled as new. Each is acknowledged in the error queue only
    /// after the broker confirmed its copy. Null when the queue does not exist.
    /// </summary>
    public async Task<RedriveResult?> RedriveAsync(string errorQueue, int max, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(errorQueue);
        var workQueue = errorQueue[..^ErrorSuffix.Length];
        try
        {
            return await broker.RunAsync(async channel =>
            {
                await channel.QueueDeclarePassiveAsync(workQueue, ct);
                // Only what is there now: a message that fails again comes back behind them and must not be moved twice.
                var present = (await channel.QueueDeclarePassiveAsync(errorQueue, ct)).MessageCount;
                var moved = 0;
                while (moved < Math.Min(max, present) && await channel.BasicGetAsync(errorQueue, autoAck: false, ct) is { } message)
                {
                    var source = message.BasicProperties;
                    var headers = DelayedRedeliveryFilter.Copy(source.Headers);
                    foreach (var key in headers.Keys.Where(k => k.StartsWith("MT-Fault", StringComparison.Ordinal) || k is "MT-Reason" || k.StartsWith("ctm-", StringComparison.Ordinal)).ToList())
                    {
                        headers.Remove(key);
                    }

                    // To the work queue's endpoint exchange (bound to the queue of that name), not the default exchange, which a
                    // service's broker user may not write to.
                    await channel.BasicPublishAsync(workQueue, string.Empty, mandatory: true, DelayedRedeliveryFilter.Republished(source, headers), message.Body.ToArray(), ct);
                    await channel.BasicAckAsync(message.DeliveryTag, multiple: false, ct);
                    moved++;
                }

                var remaining = await channel.QueueDeclarePassiveAsync(errorQueue, ct);
                return new RedriveResult(errorQueue, workQueue, moved, remaining.MessageCount);
            }, ct);
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 404)
        {
            return null;
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 403)
        {
            throw new BrokerAccessRefusedException(
                $"this service's broker user ({options.Value.Username}) may not move messages of '{errorQueue}': re-drive it on the service that consumes '{workQueue}'", e);
        }
    }

    /// <summary>Null when <paramref name="queue"/> can be re-driven; otherwise why not.</summary>
    public static string? Problem(string queue) =>
        QueueName().IsMatch(queue) && queue.EndsWith(ErrorSuffix, StringComparison.Ordinal) && queue.Length > ErrorSuffix.Length
            ? null
            : $"'{queue}' is not an error queue: name a queue that ends in '{ErrorSuffix}' (GET /v1/operations/error-queues lists them)";

    private static async Task<IReadOnlyList<FaultSample>> SamplesAsync(HttpClient client, string vhost, string queue, int count, CancellationToken ct)
    {
        // ack_requeue_true puts the messages back where they were; only their redelivered flag changes.
        var response = await client.PostAsJsonAsync(
            $"api/queues/{vhost}/{Uri.EscapeDataString(queue)}/get",
            new { count, ackmode = "ack_requeue_true", encoding = "auto", truncate = 2000 },
            ct);
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
            || (response.StatusCode == HttpStatusCode.BadRequest && (await response.Content.ReadAsStringAsync(ct)).Contains("ACCESS_REFUSED", StringComparison.Ordinal)))
        {
            // Another service's error queue: this service's broker user may not read it (its depth is still shown).
            return [];
        }

        response.EnsureSuccessStatusCode();
        var messages = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
        return [.. messages.EnumerateArray().Select(message =>
        {
            var properties = message.GetProperty("properties");
            var headers = properties.TryGetProperty("headers", out var h) && h.ValueKind == JsonValueKind.Object ? h : default;
            string? Header(string name) => headers.ValueKind == JsonValueKind.Object && headers.TryGetProperty(name, out var v) ? v.ToString() : null;
            return new FaultSample(
                properties.TryGetProperty("message_id", out var id) ? id.GetString() : null,
                Header("MT-Fault-ExceptionType"),
                Header("MT-Fault-Message"),
                Header("MT-Fault-Timestamp"),
                Header("MT-Fault-RetryCount") is { } retries ? int.Parse(retries, System.Globalization.CultureInfo.InvariantCulture) : null,
                Header(DelayedRedeliveryFilter.RedeliveriesHeader) is { } r ? int.Parse(r, System.Globalization.CultureInfo.InvariantCulture) : null);
        })];
    }

    private HttpClient Management()
    {
        var o = options.Value;
        var client = http.CreateClient(ManagementClient);
        client.BaseAddress = o.ManagementUrl ?? new Uri($"http://{o.Host}:15672/");
        client.Timeout = TimeSpan.FromSeconds(30);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{o.Username}:{o.Password}")));
        return client;
    }

    [GeneratedRegex("^(?<queue>.+)_delay_(?<seconds>[0-9]+)s$")]
    private static partial Regex DelayQueue();

    [GeneratedRegex("^[A-Za-z0-9_.:-]{1,255}$")]
    private static partial Regex QueueName();
}

/// <summary>The error queues and the messages waiting to be redelivered.</summary>
public sealed record ErrorQueueReport(IReadOnlyList<ErrorQueueView> ErrorQueues, IReadOnlyList<DelayQueueView> Waiting);

/// <summary>An error queue: its depth and the reasons of its first messages.</summary>
public sealed record ErrorQueueView(string Queue, string WorkQueue, long Messages, IReadOnlyList<FaultSample> Samples);

/// <summary>Why one message is in an error queue (MassTransit's fault headers).</summary>
/// <remarks><c>Retries</c>: in-process retries spent (0 for a permanent failure); <c>Redeliveries</c>: delayed redeliveries spent, if any.</remarks>
public sealed record FaultSample(string? MessageId, string? ExceptionType, string? Reason, string? FaultedAt, int? Retries, int? Redeliveries);

/// <summary>A delay queue: messages that failed for a reason that may pass, waiting <c>DelaySeconds</c> to go back to <c>WorkQueue</c>.</summary>
public sealed record DelayQueueView(string Queue, string WorkQueue, int DelaySeconds, long Messages);

/// <summary>What a re-drive moved.</summary>
public sealed record RedriveResult(string Queue, string WorkQueue, int Moved, uint Remaining);
