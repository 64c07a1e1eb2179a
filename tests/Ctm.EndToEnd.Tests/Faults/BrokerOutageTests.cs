using System.Net;
using Ctm.EndToEnd.Tests.Security;
using Ctm.Testing;

namespace Ctm.EndToEnd.Tests.Faults;

/// <summary>
/// The broker killed, and the broker frozen, during uploads — on a node of the test's own started by infra.sh, never
/// the shared one: every batch answered 2xx is decided once the broker is back.
/// </summary>
public sealed class BrokerOutageTests
{
    private static readonly TimeSpan Pause = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task BrokerKilledDuringUploads_EveryAcceptedUploadIsDecidedOnce()
    {
        await using var broker = await ThrowawayBroker.StartAsync();
        var system = await FaultSystem.StartAsync(rabbitMqAdmin: broker.Admin);
        try
        {
            var uploads = new Uploads(system);
            await uploads.SendAsync(6, seed: 100);
            broker.Kill();
            // Uploads go on while the node is down and while it starts again (a minute or more here).
            var restart = broker.RestartAsync();
            var seed = 200;
            while (!restart.IsCompleted)
            {
                await uploads.SendAsync(1, seed++);
                await Task.Delay(500);
            }

            await restart;
            await uploads.SendAsync(4, seed: 300);

            var report = await InputFaultTests.ReportAsync(system, "RabbitMQ killed (kill -9) during uploads, restarted by infra.sh on its data", uploads.Sent, uploads.Accepted);
            Assert.True(report.Lost == 0 && report.Duplicated == 0, report.ToString());
            Assert.True(uploads.Accepted.Count >= 12, report.ToString());
        }
        finally
        {
            await system.DisposeAsync();
        }
    }

    [Fact]
    public async Task BrokerFrozenSixtySecondsDuringUploads_EveryAcceptedUploadIsDecidedOnce()
    {
        await using var broker = await ThrowawayBroker.StartAsync();
        var system = await FaultSystem.StartAsync(rabbitMqAdmin: broker.Admin);
        try
        {
            var uploads = new Uploads(system);
            await uploads.SendAsync(6, seed: 100);
            broker.Pause();
            var paused = DateTime.UtcNow;
            try
            {
                var seed = 200;
                while (DateTime.UtcNow - paused < Pause)
                {
                    await uploads.SendAsync(1, seed++);
                    await Task.Delay(500);
                }
            }
            finally
            {
                broker.Resume();
            }

            await uploads.SendAsync(4, seed: 300);
            var report = await InputFaultTests.ReportAsync(system, $"RabbitMQ frozen (kill -STOP) {Pause.TotalSeconds:0} s during uploads", uploads.Sent, uploads.Accepted);
            Assert.True(report.Lost == 0 && report.Duplicated == 0, report.ToString());
            Assert.True(uploads.Accepted.Count >= 12, report.ToString());
        }
        finally
        {
            await system.DisposeAsync();
        }
    }

    /// <summary>Uploads counted as sent and, when answered 202, accepted (owed a decision).</summary>
    private sealed class Uploads(CtmSystem system)
    {
        public int Sent { get; private set; }
        public List<Guid> Accepted { get; } = [];

        public async Task SendAsync(int count, int seed)
        {
            using var ingest = system.Client("Ingest");
            ingest.Timeout = TimeSpan.FromSeconds(20);
            for (var i = 0; i < count; i++)
            {
                Sent++;
                try
                {
                    var (status, body) = await InputFaultTests.PostAsync(ingest, "faults", ChurnData.Csv(300, seed + i), null);
                    if (status == HttpStatusCode.Accepted)
                    {
                        Accepted.Add(body.GetProperty("batchId").GetGuid());
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    // Not answered 2xx: not owed a decision.
                }
            }
        }
    }
}
