using System.Net;
using System.Net.Http.Json;
using Ctm.Testing;

namespace Ctm.EndToEnd.Tests.Faults;

/// <summary>
/// PostgreSQL stopped during uploads for far longer than the in-process retries last (on a cluster of the test's own,
/// never the shared one): every batch answered 2xx is decided once the database is back.
/// </summary>
public sealed class PostgresOutageTests
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task PostgresStoppedLongerThanTheRetryWindow_EveryAcceptedUploadIsDecidedOnce()
    {
        using var postgres = ThrowawayPostgres.Create();
        var system = await FaultSystem.StartAsync(postgresAdmin: postgres.AdminConnectionString);
        try
        {
            using var ingest = system.Client("Ingest");
            ingest.Timeout = TimeSpan.FromSeconds(20);
            var sent = 0;
            var accepted = new List<Guid>();

            async Task UploadAsync(int seed)
            {
                sent++;
                try
                {
                    var (status, body) = await InputFaultTests.PostAsync(ingest, "faults", ChurnData.Csv(300, seed), null);
                    if (status == HttpStatusCode.Accepted)
                    {
                        accepted.Add(body.GetProperty("batchId").GetGuid());
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    // Refused or timed out while the database is down: not 2xx, so not owed a decision.
                }
            }

            for (var i = 0; i < 6; i++)
            {
                await UploadAsync(100 + i);
            }

            // The Validator is still deciding these when the database goes.
            postgres.Stop();
            var down = DateTime.UtcNow;
            var seed = 200;
            while (DateTime.UtcNow - down < Outage)
            {
                await UploadAsync(seed++);
                await Task.Delay(500);
            }

            postgres.Start();
            for (var i = 0; i < 4; i++)
            {
                await UploadAsync(300 + i);
            }

            var report = await InputFaultTests.ReportAsync(system, $"PostgreSQL stopped {Outage.TotalSeconds:0} s during uploads (in-process retries last < 1 s)", sent, accepted);
            Assert.True(report.Lost == 0 && report.Duplicated == 0, report.ToString());
            Assert.True(accepted.Count >= 10, report.ToString());

            // The outage did reach the consumers: delayed redeliveries were used, and nothing is left in an error queue.
            using var validator = system.Client("Validator");
            var view = await validator.GetFromJsonAsync<System.Text.Json.JsonElement>("v1/operations/error-queues?samples=0");
            Assert.Contains(view.GetProperty("waiting").EnumerateArray(), w => w.GetProperty("workQueue").GetString() == "validate-batch");
            Assert.All(view.GetProperty("errorQueues").EnumerateArray(), q => Assert.Equal(0, q.GetProperty("messages").GetInt64()));
        }
        finally
        {
            await system.DisposeAsync();
        }
    }
}
