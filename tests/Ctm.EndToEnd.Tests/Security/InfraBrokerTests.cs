using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Ctm.Testing;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Ctm.EndToEnd.Tests.Security;

/// <summary>What <c>./ctm infra up</c> makes of a fresh RabbitMQ node: no guest, a user per role, the admin for the tests only.</summary>
public sealed class InfraBrokerTests
{
    [Fact]
    public async Task FreshNode_HasNoGuest_EveryRoleConnectsWithItsGeneratedPassword_AndEnvHandsTheTestsTheAdmin()
    {
        await using var broker = await ThrowawayBroker.StartAsync();

        var guest = await Assert.ThrowsAnyAsync<Exception>(() => ConnectAsync(broker, "guest", "guest"));
        Assert.True(Chain(guest).Any(e => e is AuthenticationFailureException), guest.ToString());
        using (var http = Management(broker, "guest", "guest"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("api/overview")).StatusCode);
        }

        foreach (var role in BrokerPermissions.Roles.Keys.Append("admin"))
        {
            await using var connection = await ConnectAsync(broker, $"ctm-{role}", broker.Password(role));
            Assert.True(connection.IsOpen, role);
        }

        // The tests get the administrator (they make virtual hosts and users); the CLI gets the read-only operator.
        Assert.Equal($"amqp://ctm-admin:{broker.Password("admin")}@127.0.0.1:{broker.Port}/", broker.Env["CTM_TEST_RABBITMQ"]);
        Assert.StartsWith("http://ctm-operator:", broker.Env["CTM_RABBITMQ_MANAGEMENT_URL"], StringComparison.Ordinal);
        using (var operatorApi = Management(broker, "ctm-operator", broker.Password("operator")))
        {
            Assert.Equal(HttpStatusCode.OK, (await operatorApi.GetAsync("api/queues/%2F")).StatusCode);
            // RabbitMQ answers 401 "not_authorised" to a user whose tags do not allow the call.
            var refused = await operatorApi.PutAsync("api/vhosts/mallory", new StringContent("{}", Encoding.UTF8, "application/json"));
            Assert.True(refused.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden, refused.StatusCode.ToString());
        }

        using (var admin = Management(broker, "ctm-admin", broker.Password("admin")))
        {
            Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("api/vhosts/mallory")).StatusCode);
        }

        // Running 'up' again on the running node changes nothing and brings no guest back.
        await broker.InfraAsync("up", "rabbitmq");
        await Assert.ThrowsAnyAsync<Exception>(() => ConnectAsync(broker, "guest", "guest"));
        await using (await ConnectAsync(broker, "ctm-rows", broker.Password("rows")))
        {
        }
    }

    private static Task<IConnection> ConnectAsync(ThrowawayBroker broker, string user, string password) =>
        new ConnectionFactory { HostName = "127.0.0.1", Port = broker.Port, UserName = user, Password = password }.CreateConnectionAsync();

    private static HttpClient Management(ThrowawayBroker broker, string user, string password)
    {
        var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{broker.ManagementPort}/") };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        return client;
    }

    private static IEnumerable<Exception> Chain(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException!)
        {
            yield return x;
        }
    }
}
