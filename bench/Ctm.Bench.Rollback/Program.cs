using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Ctm.Bench.Rollback;
using Ctm.Contracts;
using Ctm.Testing;

// Time from a rollback request (a corrupt batch named over the Registry's API) to the last Predictor replica
// answering with the clean version. Usage: dotnet run -c Release --project bench/Ctm.Bench.Rollback -- [--runs N] [--replicas R]
var runs = Option(args, "--runs", 10);
var replicaCount = Option(args, "--replicas", 3);
var command = $"dotnet run -c Release --project bench/Ctm.Bench.Rollback -- --runs {runs} --replicas {replicaCount}";
Console.WriteLine($"# {command}");

await TestEnvironment.RequireInfrastructureAsync();
var system = new BenchSystem();
await system.InitializeAsync();
try
{
    for (var i = 1; i < replicaCount; i++)
    {
        await system.StartPredictorReplicaAsync();
    }

    // One real model through the real pipeline; its artifact is then re-announced for each run's own dataset.
    const string seed = "rollback-bench-seed";
    using var validator = system.Client("Validator");
    using var ingest = system.Client("Ingest");
    using var registry = system.Client("Registry");
    (await validator.PutAsJsonAsync($"v1/datasets/{seed}/config", new { labelColumn = "churned", task = "binary" })).EnsureSuccessStatusCode();
    using (var csv = new StringContent(ChurnData.Csv(400, 1), Encoding.UTF8, "text/csv"))
    {
        (await ingest.PostAsync($"v1/datasets/{seed}/batches", csv)).EnsureSuccessStatusCode();
    }

    await WaitAsync(async () => (await registry.GetAsync($"v1/datasets/{seed}/serving")).IsSuccessStatusCode, "the seed model");
    var bytes = await registry.GetByteArrayAsync($"v1/datasets/{seed}/versions/1/artifact");
    using var host = new ArtifactHost();
    var (artifactUrl, artifactSha) = host.Add(bytes);
    var bus = await system.BusAsync();
    Console.WriteLine($"# {replicaCount} Predictor replicas, artifact {bytes.Length} bytes, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
    Console.WriteLine("run\tapi_ms\tlast_replica_ms\tper_replica_ms");

    var samples = new List<double>();
    for (var run = 0; run <= runs; run++)
    {
        var dataset = $"rollback-bench-{run}";
        var (a, b) = (Guid.NewGuid(), Guid.NewGuid());
        await bus.Publish(Trained(dataset, artifactUrl, artifactSha, bytes.Length, [a], null));
        await WaitAsync(async () => await ServingVersionAsync(registry, dataset) == 1, $"{dataset} v1");
        await bus.Publish(Trained(dataset, artifactUrl, artifactSha, bytes.Length, [a, b], 1));
        await WaitAsync(async () => await ServingVersionAsync(registry, dataset) == 2, $"{dataset} v2");
        foreach (var replica in system.Predictors)
        {
            await WaitAsync(async () => await PredictedAsync(replica, dataset) == "2", $"{replica.BaseUrl} serving {dataset} v2");
        }

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var clock = Stopwatch.StartNew();
        var switched = system.Predictors.Select(r => FirstAnswerAsync(r, dataset, "1", clock, stop.Token)).ToList();
        var response = await registry.PostAsJsonAsync($"v1/datasets/{dataset}/rollbacks", new { corruptBatchId = b, reason = "benchmark", @operator = "bench" });
        var api = clock.Elapsed.TotalMilliseconds;
        response.EnsureSuccessStatusCode();
        var times = await Task.WhenAll(switched);
        var last = times.Max();
        // Run 0 warms up the JIT and the connections; it is printed, not counted.
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{(run == 0 ? "warm-up" : run.ToString(CultureInfo.InvariantCulture))}\t{api:0.0}\t{last:0.0}\t{string.Join(" ", times.Select(t => t.ToString("0.0", CultureInfo.InvariantCulture)))}"));
        if (run > 0)
        {
            samples.Add(last);
        }
    }

    samples.Sort();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"median {Percentile(samples, 0.5):0.0} ms, p90 {Percentile(samples, 0.9):0.0} ms, min {samples[0]:0.0} ms, max {samples[^1]:0.0} ms over {samples.Count} runs (goal: < 1000 ms)"));
}
finally
{
    await system.DisposeAsync();
}

static async Task<double> FirstAnswerAsync(ServiceProcess replica, string dataset, string version, Stopwatch clock, CancellationToken ct)
{
    while (true)
    {
        ct.ThrowIfCancellationRequested();
        if (await PredictedAsync(replica, dataset) == version)
        {
            return clock.Elapsed.TotalMilliseconds;
        }

        await Task.Delay(2, ct);
    }
}

static async Task<string?> PredictedAsync(ServiceProcess replica, string dataset)
{
    var response = await Http.Client.PostAsJsonAsync(new Uri(replica.BaseUrl, $"v1/models/{dataset}:predict"), new
    {
        instances = new object[] { new { tenure = 12, plan = "basic", monthly_fee = 80.0, support_calls = 3 } },
    });
    if (!response.IsSuccessStatusCode)
    {
        return null;
    }

    var body = await response.Content.ReadFromJsonAsync<JsonElement>();
    return body.TryGetProperty("model_version", out var v) ? v.GetString() : null;
}

static async Task<int?> ServingVersionAsync(HttpClient registry, string dataset)
{
    var response = await registry.GetAsync($"v1/datasets/{dataset}/serving");
    return response.IsSuccessStatusCode ? (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetInt32() : null;
}

static async Task WaitAsync(Func<Task<bool>> probe, string what)
{
    var deadline = DateTime.UtcNow.AddMinutes(3);
    while (DateTime.UtcNow < deadline)
    {
        try
        {
            if (await probe())
            {
                return;
            }
        }
        catch (HttpRequestException)
        {
        }

        await Task.Delay(50);
    }

    throw new TimeoutException($"Timed out waiting for {what}");
}

static ModelTrained Trained(string dataset, string artifactUrl, string artifactSha, long artifactSize, Guid[] batches, int? parent) => new()
{
    RunId = Guid.NewGuid(),
    Dataset = dataset,
    CorrelationId = Guid.NewGuid(),
    BatchIds = batches,
    ParentVersion = parent,
    SchemaVersion = 1,
    Task = TaskKind.Binary,
    ArtifactLocation = artifactUrl,
    ArtifactSha256 = artifactSha,
    ArtifactSize = artifactSize,
    Metrics = new Dictionary<string, double> { ["accuracy"] = 0.8 },
    Parameters = new Dictionary<string, string>(),
    Engine = "bench",
    Device = "cpu",
    Seed = 1,
    CodeVersion = "bench",
    StartedAt = DateTimeOffset.UtcNow,
    FinishedAt = DateTimeOffset.UtcNow,
    SamplesPerSecond = 1,
};

static double Percentile(List<double> sorted, double p) => sorted[(int)Math.Min(sorted.Count - 1, Math.Ceiling(p * sorted.Count) - 1)];

static int Option(string[] args, string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

namespace Ctm.Bench.Rollback
{
    internal sealed class BenchSystem : CtmSystem
    {
        protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string> { ["Training__Epochs"] = "5" };
    }

    internal static class Http
    {
        public static readonly HttpClient Client = TestKeys.Authenticate(new HttpClient { Timeout = TimeSpan.FromSeconds(30) });
    }
}
