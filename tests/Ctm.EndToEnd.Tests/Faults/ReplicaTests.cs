using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ctm.Testing;

namespace Ctm.EndToEnd.Tests.Faults;

/// <summary>
/// Two processes of every service at once, on one database and one virtual host, as a deployment scales out; then one
/// process of each service killed (kill -9) mid-flow, the Predictor then restarted. Every batch answered
/// 202 is decided exactly once; the Validators decide one at a time (a single active consumer keeps a dataset's batches
/// in order) and the standby takes over from the one killed; the Trainers never train the dataset twice at a time;
/// both Predictor replicas, the restarted one too, serve the newest version.
/// </summary>
public sealed class ReplicaTests
{
    private const string Dataset = "faults";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(300);

    [Fact]
    public async Task TwoReplicasOfEveryService_ShareTheWork_TrainOneAtATime_BothPredictorsSwap_AndAKilledReplicaLosesNothing()
    {
        var system = new ReplicaSystem();
        try
        {
            await system.InitializeAsync();
            foreach (var service in CtmSystem.ServiceNames)
            {
                await system.StartReplicaAsync(service);
            }

            // Ready is 200 while the bus still connects (Degraded); competing consumers share work only once both consume.
            foreach (var process in CtmSystem.ServiceNames.SelectMany(system.Replicas))
            {
                await system.EventuallyAsync(async () =>
                {
                    using var http = new HttpClient { BaseAddress = process.BaseUrl };
                    var health = await http.GetFromJsonAsync<JsonElement>("health/ready");
                    return health.GetProperty("status").GetString() == "Healthy" ? (bool?)true : null;
                }, Patience, $"{process.Name} at {process.BaseUrl} healthy, its bus connected");
            }

            using var validator = system.Client("Validator");
            (await validator.PutAsJsonAsync($"v1/datasets/{Dataset}/config", new { labelColumn = "churned", task = "binary" })).EnsureSuccessStatusCode();
            using var ingest = system.Client("Ingest");
            var accepted = new List<Guid>();
            var sent = 0;
            async Task UploadAsync(HttpClient client, int count, int seed)
            {
                for (var i = 0; i < count; i++)
                {
                    sent++;
                    var (status, body) = await InputFaultTests.PostAsync(client, Dataset, ChurnData.Csv(300, seed + i), null);
                    Assert.Equal(HttpStatusCode.Accepted, status);
                    accepted.Add(body.GetProperty("batchId").GetGuid());
                }
            }

            await UploadAsync(ingest, 6, seed: 10);
            await system.EventuallyAsync(async () => (await validator.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{Dataset}/batches"))?.Count > 0 ? (bool?)true : null, Patience, "a first decision");

            // Mid-flow, one process of each dies at once, with whatever it had taken off the bus: the Validator that was
            // deciding (the first; the second stands by), and the second of the others. Their first process's port is the
            // address the other services are given (Services:*: batch rows, trained artifacts, served artifacts), which in
            // a deployment is a load balancer's; killing it here would kill the address, not a replica.
            system.Replicas("Validator")[0].Kill();
            system.Replicas("Trainer")[1].Kill();
            system.Replicas("Ingest")[1].Kill();
            system.Replicas("Registry")[1].Kill();
            system.Predictors[0].Kill();

            using var survivingIngest = system.Client("Ingest");
            await UploadAsync(survivingIngest, 4, seed: 20);

            // The killed Predictor comes back (as an orchestrator restarts it) and must catch up with what serves now.
            await system.RestartAsync("Predictor");

            var report = await InputFaultTests.ReportAsync(system, "two replicas of every service; one process of each killed (kill -9) mid-flow, the Predictor restarted", sent, accepted);
            Assert.True(report.Lost == 0 && report.Duplicated == 0, report.ToString());

            // Each batch was decided by exactly one Validator process: the first until it was killed, then the standby.
            var deciders = accepted.ToDictionary(id => id, id => system.Replicas("Validator").Count(v => v.Log.Any(l => l.Contains($"Accepted batch {id}", StringComparison.Ordinal) || l.Contains($"Quarantined batch {id}", StringComparison.Ordinal))));
            Assert.All(deciders, d => Assert.True(d.Value == 1, $"batch {d.Key} was decided by {d.Value} processes"));
            Assert.All(system.Replicas("Validator"), v => Assert.Contains(v.Log, l => l.Contains("Accepted batch", StringComparison.Ordinal)));

            // The newest version is trained on every batch, and both Predictor replicas serve it.
            using var registry = system.Client("Registry");
            var served = await system.EventuallyAsync<JsonElement?>(async () =>
            {
                var serving = await registry.GetAsync($"v1/datasets/{Dataset}/serving");
                if (serving.StatusCode != HttpStatusCode.OK)
                {
                    return null;
                }

                var record = await serving.Content.ReadFromJsonAsync<JsonElement>();
                var version = record.GetProperty("version").GetInt32();
                var lineage = await registry.GetFromJsonAsync<JsonElement>($"v1/datasets/{Dataset}/versions/{version}");
                var batches = lineage.GetProperty("batchIds").EnumerateArray().Select(b => b.GetGuid()).ToHashSet();
                var replicas = record.GetProperty("replicas").EnumerateArray()
                    .Count(r => r.GetProperty("live").GetBoolean() && r.TryGetProperty("version", out var v) && v.ValueKind == JsonValueKind.Number && v.GetInt32() == version);
                return batches.SetEquals(accepted) && replicas >= 2 ? record : null;
            }, Patience, "a version trained on all ten batches, served by both Predictor replicas");
            Assert.NotNull(served);

            // One training of the dataset at a time across the Trainer processes: no two runs overlap, none ran twice.
            using var trainer = system.Client("Trainer");
            var runs = await trainer.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{Dataset}/runs") ?? [];
            var spans = runs.Select(r => (Start: r.GetProperty("startedAt").GetDateTimeOffset(), End: r.GetProperty("finishedAt").GetDateTimeOffset()))
                .OrderBy(r => r.Start).ToList();
            Assert.NotEmpty(spans);
            Assert.All(spans.Zip(spans.Skip(1)), p => Assert.True(p.Second.Start >= p.First.End, $"runs overlap: {p.First} and {p.Second}"));
            var versions = await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{Dataset}/versions") ?? [];
            var runIds = versions.Where(v => v.TryGetProperty("runId", out var r) && r.ValueKind == JsonValueKind.String).Select(v => v.GetProperty("runId").GetGuid()).ToList();
            Assert.Equal(runIds.Count, runIds.Distinct().Count());
        }
        finally
        {
            await system.DisposeAsync();
        }
    }

    private sealed class ReplicaSystem : CtmSystem
    {
        protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
        {
            ["Training__Epochs"] = "10",
            ["Ingest__RowEvents__MaxDelaySeconds"] = "1",
            ["RabbitMq__RetryLimit"] = "2",
            ["RabbitMq__RedeliveryDelaysSeconds"] = "1,2,4",
        };
    }
}
