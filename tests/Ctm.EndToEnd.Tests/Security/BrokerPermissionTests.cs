using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Ctm.Testing;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace Ctm.EndToEnd.Tests.Security;

/// <summary>
/// The broker's own permissions, on the real RabbitMQ: every service runs as its own user (scripts/rabbitmq/permissions.txt)
/// and a row producer may publish row events and nothing else — the forged messages of issue 13 are refused by the broker
/// before any service sees them.
/// </summary>
public sealed class BrokerPermissionTests(SystemFixture system) : IClassFixture<SystemFixture>
{
    private const string Dataset = "guarded";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(180);

    [Fact]
    public async Task RowProducer_ForgingRollbackPromotionOrAcceptance_IsRefusedByTheBroker_AndNothingChanges_WhileItsRowEventsStillArrive()
    {
        using var ingest = system.Client("Ingest");
        using var validator = system.Client("Validator");
        using var registry = system.Client("Registry");
        using var predictor = system.Client("Predictor");
        (await validator.PutAsJsonAsync($"v1/datasets/{Dataset}/config", new { labelColumn = "churned", task = "binary" })).EnsureSuccessStatusCode();
        using (var csv = new StringContent(ChurnData.Csv(400, seed: 11), Encoding.UTF8, "text/csv"))
        {
            Assert.Equal(HttpStatusCode.Accepted, (await ingest.PostAsync($"v1/datasets/{Dataset}/batches", csv)).StatusCode);
        }

        // A version that serves everywhere, so a forged rollback or promotion would have something to change.
        var before = await system.EventuallyAsync(async () => await ServingAsync(registry, predictor), Patience, "version 1 serving on the Registry and the Predictor");
        var versionsBefore = (await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{Dataset}/versions"))!.Count;

        var rows = await system.Infrastructure.BrokerUserAsync("rows");
        var factory = new ConnectionFactory
        {
            HostName = TestEnvironment.RabbitMq.Host,
            Port = TestEnvironment.RabbitMq.Port,
            VirtualHost = system.Infrastructure.VirtualHost,
            UserName = rows.Username,
            Password = rows.Password,
        };
        await using var connection = await factory.CreateConnectionAsync();

        // What a row producer forged in issue 13, each as MassTransit would carry it, to its message type's exchange.
        var forged = new (string Exchange, string RoutingKey, string Message)[]
        {
            ("Ctm.Contracts:RequestRollback", "", $$"""{"requestId":"{{Guid.NewGuid()}}","dataset":"{{Dataset}}","targetVersion":1,"reason":"forged","operator":"mallory"}"""),
            ("Ctm.Contracts:ModelPromoted", "", $$"""{"dataset":"{{Dataset}}","version":99,"generation":1000,"artifactLocation":"http://127.0.0.1:1/x","artifactSha256":"00","reason":"forged"}"""),
            ("Ctm.Contracts:BatchAccepted", "", $$"""{"batchId":"{{Guid.NewGuid()}}","dataset":"{{Dataset}}","rowCount":1,"sha256":"00","location":"http://127.0.0.1:1/x"}"""),
            // The default exchange would reach any queue by name: the Registry's rollback queue here.
            ("", "rollback", $$"""{"requestId":"{{Guid.NewGuid()}}","dataset":"{{Dataset}}","targetVersion":1,"reason":"forged","operator":"mallory"}"""),
        };
        foreach (var (exchange, routingKey, message) in forged)
        {
            var refusal = await PublishRefusedAsync(connection, exchange, routingKey, Envelope(exchange.Length > 0 ? exchange : "Ctm.Contracts:RequestRollback", message));
            Assert.True(refusal is { ReplyCode: 403 }, $"publishing to '{exchange}' as {rows.Username}: {refusal?.ToString() ?? "accepted"}");
            Assert.Contains("ACCESS_REFUSED", refusal!.ReplyText, StringComparison.Ordinal);
            Assert.Contains(exchange.Length > 0 ? exchange : "amq.default", refusal.ReplyText, StringComparison.Ordinal);
        }

        // Nor may it make a queue of its own to read others' messages from.
        await using (var channel = await connection.CreateChannelAsync())
        {
            var error = await Assert.ThrowsAnyAsync<OperationInterruptedException>(() => channel.QueueDeclareAsync("mallory", durable: false, exclusive: true, autoDelete: true));
            Assert.Equal<ushort?>(403, error.ShutdownReason?.ReplyCode);
        }

        // Row events still go through, on the same identity: they are cut into a batch and decided.
        await using (var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true)))
        {
            var lines = ChurnData.Csv(20, seed: 12).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal("tenure,plan,monthly_fee,support_calls,churned", lines[0]);
            foreach (var (line, i) in lines.Skip(1).Select((l, i) => (l, i)))
            {
                var f = line.Split(',');
                var json = $$$"""{"dataset":"{{{Dataset}}}","eventId":"row-{{{i}}}","row":{"tenure":{{{f[0]}}},"plan":"{{{f[1]}}}","monthly_fee":{{{f[2]}}},"support_calls":{{{f[3]}}},"churned":"{{{f[4]}}}"}}""";
                await channel.BasicPublishAsync("ctm.rows", string.Empty, mandatory: true, new BasicProperties { ContentType = "application/json" }, Encoding.UTF8.GetBytes(json));
            }
        }

        var fromEvents = await system.EventuallyAsync(async () =>
        {
            var batches = await ingest.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{Dataset}/batches");
            return batches?.FirstOrDefault(b => b.GetProperty("source").GetString() == "bus") is { ValueKind: JsonValueKind.Object } b ? (JsonElement?)b : null;
        }, Patience, "a batch cut from the row producer's events");
        await system.EventuallyAsync(async () =>
        {
            var decision = await validator.GetFromJsonAsync<JsonElement>($"v1/batches/{fromEvents!.Value.GetProperty("batchId").GetGuid()}");
            return decision.GetProperty("status").GetString() is "accepted" or "quarantined" ? "decided" : null;
        }, Patience, "the Validator's decision on the events' batch");

        // Nothing the forgeries asked for happened: no rollback was recorded, the Registry and the Predictor serve what
        // they served (a newer version from the events' batch is the only change allowed), and no version came from a
        // forged acceptance.
        Assert.Empty((await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{Dataset}/rollbacks"))!);
        var after = await system.EventuallyAsync(async () => await ServingAsync(registry, predictor), Patience, "the Registry and the Predictor agreeing");
        Assert.True(after.Version >= before.Version, $"serving went from v{before.Version} to v{after.Version}");
        Assert.NotEqual(99, after.Version);
        Assert.True(after.Generation < 1000, $"generation {after.Generation}");
        var versions = (await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{Dataset}/versions"))!;
        Assert.InRange(versions.Count, versionsBefore, versionsBefore + 1);
    }

    [Fact]
    public async Task ServicePasswords_AppearInNoLog_AndNoErrorQueueHeader()
    {
        // A malformed event goes to ingest-row-events_error with MassTransit's fault headers.
        var rows = await system.Infrastructure.BrokerUserAsync("rows");
        var factory = new ConnectionFactory
        {
            HostName = TestEnvironment.RabbitMq.Host,
            Port = TestEnvironment.RabbitMq.Port,
            VirtualHost = system.Infrastructure.VirtualHost,
            UserName = rows.Username,
            Password = rows.Password,
        };
        await using (var connection = await factory.CreateConnectionAsync())
        await using (var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true)))
        {
            await channel.BasicPublishAsync("ctm.rows", string.Empty, mandatory: true, new BasicProperties { ContentType = "application/json" }, Encoding.UTF8.GetBytes("""{"dataset":"Not A Name","eventId":"bad","row":{"a":1}}"""));
        }

        using var management = Faults.InputFaultTests.Management();
        var vhost = Uri.EscapeDataString(system.Infrastructure.VirtualHost);
        var messages = await system.EventuallyAsync(async () =>
        {
            var response = await management.PostAsJsonAsync($"api/queues/{vhost}/ingest-row-events_error/get", new { count = 10, ackmode = "ack_requeue_true", encoding = "auto" });
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            var list = await response.Content.ReadFromJsonAsync<List<JsonElement>>();
            return list is { Count: > 0 } ? list : null;
        }, Patience, "the malformed event in ingest-row-events_error");
        var stored = string.Join("\n", messages.Select(m => m.ToString()));
        Assert.Contains("MT-Fault-Message", stored, StringComparison.Ordinal);

        // Another service's error queue: the Validator shows its depth, but may neither read its messages nor move them.
        using (var validator = system.Client("Validator"))
        {
            // The management API's depths lag a few seconds behind the queue.
            var queue = await system.EventuallyAsync(async () =>
            {
                var view = await validator.GetFromJsonAsync<JsonElement>("v1/operations/error-queues");
                var q = view.GetProperty("errorQueues").EnumerateArray().SingleOrDefault(q => q.GetProperty("queue").GetString() == "ingest-row-events_error");
                return q.ValueKind == JsonValueKind.Object && q.GetProperty("messages").GetInt64() >= 1 ? (JsonElement?)q : null;
            }, Patience, "the depth of ingest-row-events_error in the Validator's view");
            Assert.Empty(queue!.Value.GetProperty("samples").EnumerateArray());
            var redrive = await validator.PostAsync("v1/operations/error-queues/ingest-row-events_error/redrive", null);
            Assert.Equal(HttpStatusCode.Forbidden, redrive.StatusCode);
            Assert.Contains("re-drive it on the service that consumes 'ingest-row-events'", await redrive.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        foreach (var service in CtmSystem.ServiceNames)
        {
            var password = system.BrokerUser(service).Password;
            Assert.DoesNotContain(password, stored, StringComparison.Ordinal);
            Assert.DoesNotContain(system[service].Log, line => line.Contains(password, StringComparison.Ordinal));
        }
    }

    private static async Task<Serving?> ServingAsync(HttpClient registry, HttpClient predictor)
    {
        var response = await registry.GetAsync($"v1/datasets/{Dataset}/serving");
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        var serving = await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();
        var version = serving.GetProperty("version").GetInt32();
        var model = await predictor.GetAsync($"v1/models/{Dataset}");
        if (!model.IsSuccessStatusCode)
        {
            return null;
        }

        var status = (await model.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("model_version_status")[0].GetProperty("version").ToString();
        return status == version.ToString(System.Globalization.CultureInfo.InvariantCulture) ? new Serving(version, serving.GetProperty("generation").GetInt64()) : null;
    }

    /// <summary>Publishes with publisher confirms; the broker's refusal closes the channel: its reason, or null when the message was taken.</summary>
    private static async Task<ShutdownEventArgs?> PublishRefusedAsync(IConnection connection, string exchange, string routingKey, byte[] body)
    {
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        try
        {
            await channel.BasicPublishAsync(exchange, routingKey, mandatory: false, new BasicProperties { ContentType = "application/vnd.masstransit+json", MessageId = Guid.NewGuid().ToString() }, body);
        }
        catch (Exception e) when (e is OperationInterruptedException or PublishException)
        {
            // The channel's close reason below says why.
        }

        for (var i = 0; i < 100 && channel.IsOpen; i++)
        {
            await Task.Delay(50);
        }

        return channel.IsOpen ? null : channel.CloseReason;
    }

    private sealed record Serving(int Version, long Generation);

    private static byte[] Envelope(string messageType, string message) => Encoding.UTF8.GetBytes(
        $$$"""{"messageId":"{{{Guid.NewGuid()}}}","messageType":["urn:message:{{{messageType}}}"],"message":{{{message}}}}""");
}
