using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ctm.Testing;

namespace Ctm.EndToEnd.Tests.Faults;

/// <summary>
/// Two processes of every service at once, on one database and one virtual host, as a deployment scales out; then one
/// process each of Ingest, the Validator, the Trainer and the Registry killed (kill -9) mid-flow. Every batch answered
/// 202 is decided exactly once, the Validators share the work, the Trainers never train the dataset twice at a time,
/// and both Predictor replicas serve the newest version.
/// </summary>
public sealed class ReplicaTests
{
    private const string Dataset = "faults";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(240);

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

            using var validator = system.Client("Validator");
            (await validator.PutAsJsonAsync($"v1/datasets/{Dataset}/config", new { labelColumn = "churned", task = "binary" })).EnsureSuccessStatusCode();
            using var ingest = system.Client("Ingest");
            var accepted = new List<Guid>();
            var sent = 0;
            async Task UploadAsync(int count, int seed)
            {
                for (var i = 0; i < count; i++)
                {
                    sent++;
                    var (status, body) = await InputFaultTests.PostAsync(ingest, Dataset, ChurnData.Csv(300, seed + i), null);
                    Assert.Equal(HttpStatusCode.Accepted, status);
                    accepted.Add(body.GetProperty("batchId").GetGuid());
                }
            }

            await UploadAsync(6, seed: 10);
            // Mid-flow: the second process of each of these dies at once, with whatever it had taken off the bus.
            foreach (var service in new[] { "Ingest", "Validator", "Trainer", "Registry" })
            {
                system.Replicas(service)[1].Kill();
            }

            await UploadAsync(4, seed: 20);

            var report = await InputFaultTests.ReportAsync(system, "two replicas of every service; one each of Ingest, Validator, Trainer and Registry killed (kill -9) mid-flow", sent, accepted);
            Assert.True(report.Lost == 0 && report.Duplicated == 0, report.ToString());

            // Each batch was decided by exactly one Validator process, and both took a share.
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
