// Serving benchmark: wrk on loopback against three endpoints of one Kestrel server, in one run:
//   bare    POST /echo                         echoes a small JSON body (the ceiling of the HTTP stack here)
//   static  POST /v1/models/static:predict     all-categorical model, answered from its lookup table
//   dynamic POST /v1/models/dynamic:predict    all-numeric model through micro-batched ONNX Runtime (float path), hot-key cache off
// The predict endpoints are the Predictor's own handlers (TfServingApi) over models loaded by its own ModelLoader.Build.
// Usage: dotnet bench/Ctm.Bench.Serving/bin/Release/net10.0/Ctm.Bench.Serving.dll [--duration 10] [--connections 64] [--threads 2]
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Ctm.Bench.Serving;
using Ctm.Ml;
using Ctm.Predictor.Apis;
using Ctm.Predictor.Extensions;
using Ctm.Predictor.Models;
using Ctm.Predictor.Monitoring;
using Ctm.ServiceDefaults.Auth;
using Ctm.ServiceDefaults.Http;
using Microsoft.Extensions.Options;

var duration = Arg("--duration", 10);
var connections = Arg("--connections", 64);
var threads = Arg("--threads", 2);
var port = Arg("--port", 5199);

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
builder.Services.Configure<ServingOptions>(o => o.HotKeyCacheSize = 0);
builder.Services.AddHttpClient();
// Every request carries a reader's key, as in production: the figures include authentication (echo too, by the fallback policy).
const string BenchKey = "ctm_bench-reader";
builder.Configuration["Auth:Keys:bench:Sha256"] = ApiKeyStore.Hash(BenchKey);
builder.Configuration["Auth:Keys:bench:Roles"] = CtmRoles.Reader;
builder.AddCtmAuth();
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton(Options.Create(new ServiceUrls()));
builder.Services.AddSingleton<ReplicaIdentity>();
builder.Services.AddSingleton<ModelCatalog>();
builder.Services.AddSingleton<ModelLoader>();
builder.Services.AddSingleton<ServingStatistics>();
builder.Services.AddSingleton<ShadowRecorder>();
builder.Services.AddSingleton<Predictions>();
var app = builder.Build();
app.UseAuthentication();
app.UseAuthorization();

app.MapPost("/echo", async context =>
{
    var body = await context.Request.BodyReader.ReadAtLeastAsync(int.MaxValue);
    context.Response.ContentType = "application/json";
    foreach (var segment in body.Buffer)
    {
        await context.Response.BodyWriter.WriteAsync(segment);
    }

    context.Request.BodyReader.AdvanceTo(body.Buffer.End);
});
app.MapTfServingApi();

var loader = app.Services.GetRequiredService<ModelLoader>();
var catalog = app.Services.GetRequiredService<ModelCatalog>();
Install("static", Models.Categorical());
Install("dynamic", Models.Numeric());
await app.StartAsync();

var bodies = new Dictionary<string, string>
{
    ["bare"] = """{"instances":[{"color":"red","size":"M","shape":"circle"}]}""",
    ["static"] = """{"instances":[{"color":"red","size":"M","shape":"circle"}]}""",
    ["dynamic"] = """{"instances":[{"f0":0.25,"f1":-1.5,"f2":3.0,"f3":0.75,"f4":-0.1,"f5":2.2,"f6":1.1,"f7":-0.8}]}""",
};
var paths = new Dictionary<string, string> { ["bare"] = "/echo", ["static"] = "/v1/models/static:predict", ["dynamic"] = "/v1/models/dynamic:predict" };

var wrk = WrkCommand(connections, threads, duration);
Console.WriteLine($"# Ctm.Bench.Serving — {Environment.ProcessorCount} cores, {RuntimeVersion()}, wrk {wrk}");
var results = new Dictionary<string, WrkResult>();
foreach (var target in new[] { "bare", "static", "dynamic" })
{
    var script = Path.Combine(Path.GetTempPath(), $"ctm-bench-{target}.lua");
    await File.WriteAllTextAsync(script, $"wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.headers[\"Authorization\"] = \"ApiKey {BenchKey}\"\nwrk.body = [[{bodies[target]}]]\n");

    // Warm up (JIT, connection pools), then measure.
    await RunWrkAsync($"-t{threads} -c{connections} -d3s -s {script} http://127.0.0.1:{port}{paths[target]}");
    var output = await RunWrkAsync($"{wrk} -s {script} http://127.0.0.1:{port}{paths[target]}");
    results[target] = WrkResult.Parse(output);
    Console.WriteLine($"{target,-8} {results[target]}");
}

var dynamicModel = catalog.Find("dynamic")!.Primary!;
Console.WriteLine();
Console.WriteLine("| endpoint | req/s | vs bare | p50 ms | p99 ms | non-2xx |");
Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: |");
foreach (var (name, r) in results)
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {r.RequestsPerSecond:0} | {r.RequestsPerSecond / results["bare"].RequestsPerSecond:P0} | {r.P50Ms:0.00} | {r.P99Ms:0.00} | {r.Non2xx} |"));
}

Console.WriteLine();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"dynamic path: {dynamicModel.Batcher!.Batches} batches, mean batch size {(double)dynamicModel.Batcher.Rows / Math.Max(1, dynamicModel.Batcher.Batches):0.0} rows, {dynamicModel.Batcher.Rejected} rejected"));
var staticOk = results["static"].RequestsPerSecond >= 0.8 * results["bare"].RequestsPerSecond;
var dynamicOk = results["dynamic"].RequestsPerSecond >= 0.5 * results["bare"].RequestsPerSecond;
Console.WriteLine($"goals: static >= 80% of bare: {(staticOk ? "met" : "NOT met")}; dynamic >= 50% of bare: {(dynamicOk ? "met" : "NOT met")}; p99 < 10 ms: {(results.Values.All(r => r.P99Ms < 10) ? "met" : "NOT met")}");
await app.StopAsync();

void Install(string name, byte[] onnx)
{
    var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(onnx));
    var model = loader.Build(new LoadedModelInfo(name, 1, 1, sha, "memory"), onnx);
    catalog.TrySwap(model);
    Console.WriteLine($"# model '{name}': {model.Path} path{(model.Table is { } t ? $", {t.Size} table entries" : "")}, inputs {string.Join(", ", model.Session.Inputs)}");
}

static string WrkCommand(int connections, int threads, int duration) => $"-t{threads} -c{connections} -d{duration}s --latency";

static async Task<string> RunWrkAsync(string arguments)
{
    var start = new ProcessStartInfo("wrk", arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
    using var process = Process.Start(start) ?? throw new InvalidOperationException("wrk did not start: install it (apt-get install -y wrk)");
    var output = await process.StandardOutput.ReadToEndAsync();
    await process.WaitForExitAsync();
    return output;
}

static string RuntimeVersion() => System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription;

int Arg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

namespace Ctm.Bench.Serving
{
    /// <summary>The figures of one wrk run.</summary>
    internal sealed partial record WrkResult(double RequestsPerSecond, double P50Ms, double P99Ms, long Non2xx)
    {
        public static WrkResult Parse(string output)
        {
            var rps = double.Parse(RequestsPerSecondPattern().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
            var non2xx = NonSuccessPattern().Match(output) is { Success: true } m ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
            return new WrkResult(rps, Percentile(output, "50%"), Percentile(output, "99%"), non2xx);
        }

        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{RequestsPerSecond:0} req/s, p50 {P50Ms:0.00} ms, p99 {P99Ms:0.00} ms, non-2xx {Non2xx}");

        private static double Percentile(string output, string label)
        {
            var match = Regex.Match(output, $@"^\s*{Regex.Escape(label)}\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline);
            var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            return match.Groups[2].Value switch { "us" => value / 1000, "s" => value * 1000, _ => value };
        }

        [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
        private static partial Regex RequestsPerSecondPattern();

        [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")]
        private static partial Regex NonSuccessPattern();
    }

    /// <summary>The two benchmark models, trained here from fixed seeds with the project's own engine and exporter.</summary>
    internal static class Models
    {
        public static byte[] Categorical()
        {
            var random = new Random(1);
            string[] colors = ["red", "green", "blue", "black"], sizes = ["S", "M", "L", "XL"], shapes = ["circle", "square", "star"];
            var n = 2000;
            var c = new string?[n];
            var s = new string?[n];
            var h = new string?[n];
            var y = new string?[n];
            for (var i = 0; i < n; i++)
            {
                c[i] = colors[random.Next(colors.Length)];
                s[i] = sizes[random.Next(sizes.Length)];
                h[i] = shapes[random.Next(shapes.Length)];
                y[i] = (c[i] == "red" ? 1 : 0) + (s[i] == "L" ? 1 : 0) + random.NextDouble() > 1.2 ? "yes" : "no";
            }

            var data = Ctm.Ml.TabularDataset.CreateBuilder().AddCategorical("color", c).AddCategorical("size", s).AddCategorical("shape", h).WithLabel("bought", y).Build();
            return new Ctm.Ml.Engine.ManagedTrainingEngine().Train(data, new TrainingOptions { Task = ModelTask.BinaryClassification, HiddenLayers = [32], Epochs = 5 }).ToOnnx();
        }

        public static byte[] Numeric()
        {
            var random = new Random(2);
            var n = 2000;
            var builder = Ctm.Ml.TabularDataset.CreateBuilder();
            var columns = Enumerable.Range(0, 8).Select(_ => new double[n]).ToArray();
            var y = new string?[n];
            for (var i = 0; i < n; i++)
            {
                var sum = 0.0;
                for (var f = 0; f < columns.Length; f++)
                {
                    columns[f][i] = (random.NextDouble() * 4) - 2;
                    sum += columns[f][i] * (f % 2 == 0 ? 1 : -0.5);
                }

                y[i] = sum > 0 ? "yes" : "no";
            }

            for (var f = 0; f < columns.Length; f++)
            {
                builder.AddNumeric($"f{f}", columns[f]);
            }

            return new Ctm.Ml.Engine.ManagedTrainingEngine().Train(builder.WithLabel("label", y).Build(), new TrainingOptions { Task = ModelTask.BinaryClassification, HiddenLayers = [32], Epochs = 5 }).ToOnnx();
        }
    }
}
