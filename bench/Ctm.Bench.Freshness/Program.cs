using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Ctm.Bench.Freshness;
using Ctm.Testing;

// Freshness: from a batch being posted to Ingest until the Predictor serves a version trained on it, through the
// five services as real processes, and where the time goes (from the services' own timestamps).
// Usage: dotnet run -c Release --project bench/Ctm.Bench.Freshness -- [--runs N] [--rows R] [--epochs E] [--window all|last-batches:N]
var runs = Option(args, "--runs", 10);
var rows = Option(args, "--rows", 10_000);
var epochs = Option(args, "--epochs", 10);
var window = OptionText(args, "--window", "all");
var command = $"dotnet run -c Release --project bench/Ctm.Bench.Freshness -- --runs {runs} --rows {rows} --epochs {epochs} --window {window}";
Console.WriteLine($"# {command}");

await TestEnvironment.RequireInfrastructureAsync();
var system = new BenchSystem();
await system.InitializeAsync();
try
{
    const string dataset = "freshness";
    using var validator = system.Client("Validator");
    using var ingest = system.Client("Ingest");
    using var trainer = system.Client("Trainer");
    using var registry = system.Client("Registry");
    using var predictor = system.Client("Predictor");
    (await validator.PutAsJsonAsync($"v1/datasets/{dataset}/config", new { labelColumn = "churned", task = "binary" })).EnsureSuccessStatusCode();
    var windowParts = window.Split(':');
    (await trainer.PutAsJsonAsync($"v1/datasets/{dataset}/policy", new
    {
        trigger = "batches",
        everyBatches = 1,
        window = windowParts[0],
        windowBatches = windowParts.Length > 1 ? int.Parse(windowParts[1], CultureInfo.InvariantCulture) : 0,
        warmStart = true,
        epochs,
    })).EnsureSuccessStatusCode();
    Console.WriteLine($"# {rows} rows per batch, {epochs} epochs, window {window}, warm start from the serving version; {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
    Console.WriteLine("run\tfresh_ms\tupload\tvalidate\tto_trainer\tto_run\ttrain\tregister\tload\tseen\ttrain_rows\tversion");

    var samples = new List<double>();
    var parts = new List<double[]>();
    var served = 0;
    // Run 0 defines the schema and warms up the JIT and the connections: printed, not counted.
    for (var run = 0; run <= runs; run++)
    {
        var csv = ChurnData.Csv(rows, seed: 1000 + run);
        using var content = new StringContent(csv, Encoding.UTF8, "text/csv");
        var t0 = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var response = await ingest.PostAsync($"v1/datasets/{dataset}/batches", content);
        response.EnsureSuccessStatusCode();
        var receipt = await response.Content.ReadFromJsonAsync<JsonElement>();
        var batchId = receipt.GetProperty("batchId").GetGuid();

        // Watch the Predictor until it serves a newer version; that version must be trained on the batch.
        JsonElement model;
        int version;
        while (true)
        {
            if (await ModelAsync(predictor, dataset) is { } m && m.GetProperty("version").GetInt32() > served)
            {
                version = m.GetProperty("version").GetInt32();
                var lineage = await registry.GetFromJsonAsync<JsonElement>($"v1/datasets/{dataset}/versions/{version}");
                if (lineage.GetProperty("batchIds").EnumerateArray().Any(b => b.GetGuid() == batchId))
                {
                    model = m;
                    break;
                }

                served = version;
            }

            if (clock.Elapsed > TimeSpan.FromMinutes(3))
            {
                throw new TimeoutException($"run {run}: no served version trained on batch {batchId} after 3 minutes\n{system.Logs()}");
            }

            await Task.Delay(5);
        }

        var fresh = clock.Elapsed.TotalMilliseconds;
        served = version;

        // Where the time went, from each service's own record of the batch and the version.
        var ingestedAt = receipt.GetProperty("ingestedAt").GetDateTimeOffset();
        var decidedAt = (await validator.GetFromJsonAsync<JsonElement>($"v1/batches/{batchId}")).GetProperty("decidedAt").GetDateTimeOffset();
        var job = (await trainer.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/jobs"))!
            .Single(j => j.TryGetProperty("batchId", out var b) && b.ValueKind == JsonValueKind.String && b.GetGuid() == batchId);
        var recordedAt = job.GetProperty("createdAt").GetDateTimeOffset();
        var trainingRun = await trainer.GetFromJsonAsync<JsonElement>($"v1/runs/{job.GetProperty("runId").GetGuid()}");
        var startedAt = trainingRun.GetProperty("startedAt").GetDateTimeOffset();
        var finishedAt = trainingRun.GetProperty("finishedAt").GetDateTimeOffset();
        var promotedAt = (await registry.GetFromJsonAsync<JsonElement>($"v1/datasets/{dataset}/serving")).GetProperty("promotedAt").GetDateTimeOffset();
        var loadedAt = model.GetProperty("loadedAt").GetDateTimeOffset();
        double[] split =
        [
            Ms(ingestedAt - t0), Ms(decidedAt - ingestedAt), Ms(recordedAt - decidedAt), Ms(startedAt - recordedAt),
            Ms(finishedAt - startedAt), Ms(promotedAt - finishedAt), Ms(loadedAt - promotedAt), Ms(t0.AddMilliseconds(fresh) - loadedAt),
        ];
        var trainRows = trainingRun.GetProperty("parameters").GetProperty("trainRows").GetString();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{(run == 0 ? "warm-up" : run.ToString(CultureInfo.InvariantCulture))}\t{fresh:0}\t{string.Join("\t", split.Select(s => s.ToString("0", CultureInfo.InvariantCulture)))}\t{trainRows}\tv{version}"));
        if (run > 0)
        {
            samples.Add(fresh);
            parts.Add(split);
        }
    }

    var sorted = samples.Order().ToList();
    string[] names = ["upload (post to stored)", "validation (stored to decided)", "queueing to the Trainer (decided to job recorded)", "queueing for a run (recorded to run start)",
        "training (load rows, train, evaluate with baseline, export)", "registration (run end to promotion: outbox, artifact fetch, register, promote)",
        "load (promotion to the Predictor's swap: fan-out, fetch, verify, warm up)", "seen by the client's poll"];
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"freshness: median {Median(sorted):0} ms, min {sorted[0]:0} ms, max {sorted[^1]:0} ms over {sorted.Count} runs (goal: < 5000 ms)"));
    for (var i = 0; i < names.Length; i++)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  median {Median([.. parts.Select(p => p[i]).Order()]),6:0} ms  {names[i]}"));
    }
}
finally
{
    await system.DisposeAsync();
}

static double Ms(TimeSpan t) => t.TotalMilliseconds;

static double Median(List<double> sorted) => sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;

static async Task<JsonElement?> ModelAsync(HttpClient predictor, string dataset)
{
    try
    {
        var models = await predictor.GetFromJsonAsync<List<JsonElement>>("v1/models");
        return models!.FirstOrDefault(m => m.GetProperty("name").GetString() == dataset) is { ValueKind: JsonValueKind.Object } m ? m : null;
    }
    catch (HttpRequestException)
    {
        return null;
    }
}

static int Option(string[] args, string name, int fallback) =>
    int.Parse(OptionText(args, name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

static string OptionText(string[] args, string name, string fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}

namespace Ctm.Bench.Freshness
{
    internal sealed class BenchSystem : CtmSystem
    {
        protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
        {
            ["Ingest__RowEvents__MaxDelaySeconds"] = "1",
        };
    }
}
