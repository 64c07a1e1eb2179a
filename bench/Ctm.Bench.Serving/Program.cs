// Serving benchmark of record: wrk on loopback against the real Predictor process — the host, middleware and settings
// of './ctm demo' (service defaults, telemetry, health, the bus), started as the process-level tests start it, beside
// the Registry it loads its models from — and against a bare ASP.NET Core minimal API in this process, in one run.
//   bare      POST /predict                       minimal API parsing the JSON body and answering a prediction-shaped JSON (the ceiling
//                                                 of the HTTP stack here), with the dynamic path's bodies; bare-small: the static path's
//   static    POST /v1/models/static:predict      categorical-only model, answered from its lookup table; random instances
//   dynamic   POST /v1/models/dynamic:predict     32 numeric features through micro-batched ONNX Runtime; random instances
//   fixed     POST /v1/models/dynamic:predict     the same model, one fixed instance (the hot-key cache answers)
// and, only when named in --targets, a ladder that prices the Predictor's per-request overhead without model work:
//   bare-get  GET /live                           the bare endpoint without a body
//   live      GET /v2/health/live                 the Predictor's host, middleware and telemetry, anonymous (no key checked)
//   authed    GET /v2/                            the same plus the API-key check and the role policy
// Rounds are interleaved (bare, static, dynamic, fixed, then again) so that the other work on a shared machine falls
// on every target alike; ratios are taken within a round. The models are trained here from fixed seeds with the
// project's own engine and exported with its own exporter (--layout per-feature: the layout of versions exported before
// the packed one), uploaded to the Registry, and loaded by the Predictor through its ordinary start-up path.
// Each path is compared with the bare endpoint on the same bodies, in the same round.
// With --baseline-dir (a services/Predictor/bin/Release/net10.0 of another build; run.sh --baseline-commit builds one), a
// second Predictor process of that build joins as a replica on the same Registry, and every Predictor target gets a twin
// '<target>@base' run in the same rounds against the same bare endpoint (the pair's order alternates by round): on a noisy
// machine only same-run ratios hold, so the candidate is compared with the baseline round by round.
// Usage: bench/Ctm.Bench.Serving/run.sh [--duration 10] [--rounds 3] [--connections 64] [--threads 2] [--layout packed|per-feature]
//        [--targets bare,dynamic] (a subset, e.g. while profiling; each path brings its bare) [--baseline-dir DIR | --baseline-commit REV].
//        The Predictors inherit the environment (e.g. Serving__BatchTimeoutMicroseconds=200, DOTNET_PerfMapEnabled=1 for perf).
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using Ctm.Bench.Serving;
using Ctm.Ml;
using Ctm.Testing;

var duration = Arg("--duration", 10);
var rounds = Arg("--rounds", 3);
var connections = Arg("--connections", 64);
var threads = Arg("--threads", 2);
var layout = args.SkipWhile(a => a != "--layout").Skip(1).FirstOrDefault() == "per-feature" ? OnnxInputLayout.PerFeature : OnnxInputLayout.Packed;
var command = $"bench/Ctm.Bench.Serving/run.sh {string.Join(' ', args)}".Trim();
var baselineDir = args.SkipWhile(a => a != "--baseline-dir").Skip(1).FirstOrDefault();

await using var system = new ServingSystem();
await system.InitializeAsync();
using var predictor = system.Client("Predictor");
await ServeAsync(system, predictor, "static", Models.Categorical(layout));
await ServeAsync(system, predictor, "dynamic", Models.Numeric(layout));
HttpClient? baseline = null;
var baselinePid = 0;
if (baselineDir is not null)
{
    // The baseline build starts after both models are promoted, so it loads them through its ordinary start-up path.
    var replica = await system.StartReplicaAsync("Predictor", binDirectory: Path.GetFullPath(baselineDir));
    baselinePid = replica.ProcessId;
    baseline = TestKeys.Authenticate(new HttpClient { BaseAddress = replica.BaseUrl, Timeout = TimeSpan.FromSeconds(60) });
    await WaitServingAsync(system, baseline, "static");
    await WaitServingAsync(system, baseline, "dynamic");
}

var barePort = TestEnvironment.FreePort();
var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.UseUrls($"http://127.0.0.1:{barePort}");
var bare = builder.Build();
// Parses the JSON body and answers what a classifier's prediction looks like: what any JSON endpoint on this stack pays.
var answer = """{"predictions":[{"label":"yes","probabilities":{"no":0.2874,"yes":0.7126}}],"model_version":"1"}"""u8.ToArray();
bare.MapPost("/predict", async context =>
{
    using var request = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
    var body = request.RootElement.GetProperty("instances").GetArrayLength() > 0 ? answer : [];
    context.Response.ContentType = "application/json";
    context.Response.ContentLength = body.Length;
    await context.Response.BodyWriter.WriteAsync(body);
});
var alive = """{"live":true}"""u8.ToArray();
bare.MapGet("/live", async context =>
{
    context.Response.ContentType = "application/json";
    context.Response.ContentLength = alive.Length;
    await context.Response.BodyWriter.WriteAsync(alive);
});
await bare.StartAsync();

var predictorUrl = predictor.BaseAddress!.ToString().TrimEnd('/');
var only = args.SkipWhile(a => a != "--targets").Skip(1).FirstOrDefault()?.Split(',');
var targets = new Target[]
{
    new("bare", $"http://127.0.0.1:{barePort}/predict", Scripts.Numeric, null, "bare", false, false),
    new("bare-small", $"http://127.0.0.1:{barePort}/predict", Scripts.Categorical, null, "bare-small", false, false),
    new("bare-get", $"http://127.0.0.1:{barePort}/live", Scripts.Get, null, "bare-get", false, true),
    new("live", $"{predictorUrl}/v2/health/live", Scripts.Get, null, "bare-get", true, true),
    new("authed", $"{predictorUrl}/v2/", Scripts.Get, null, "bare-get", true, true),
    new("static", $"{predictorUrl}/v1/models/static:predict", Scripts.Categorical, "static", "bare-small", true, false),
    new("dynamic", $"{predictorUrl}/v1/models/dynamic:predict", Scripts.Numeric, "dynamic", "bare", true, false),
    new("fixed", $"{predictorUrl}/v1/models/dynamic:predict", Scripts.Fixed, "dynamic", "bare", true, false),
};
targets = [.. targets.Where(t => only is null ? !t.Ladder : only.Contains(t.Name) || targets.Any(o => only.Contains(o.Name) && o.Bare == t.Name))];
var baselineUrl = baseline?.BaseAddress!.ToString().TrimEnd('/');
if (baselineUrl is not null)
{
    targets = [.. targets.SelectMany(t => t.Predictor ? new[] { t, t with { Name = t.Name + "@base", Url = t.Url.Replace(predictorUrl, baselineUrl, StringComparison.Ordinal), Baseline = true } } : [t])];
}

var predictorPid = system["Predictor"].ProcessId;
Console.WriteLine($"# command: {command}");
Console.WriteLine($"# {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}, load average {LoadAverage()}, layout {layout}");
Console.WriteLine($"# wrk -t{threads} -c{connections} -d{duration}s --latency, {rounds} interleaved rounds; Predictor pid {predictorPid} at {predictorUrl}, bare at :{barePort}");
if (baseline is not null)
{
    Console.WriteLine($"# baseline Predictor pid {baselinePid} at {baselineUrl}, from {Path.GetFullPath(baselineDir!)}");
}

// Warm up every target (JIT, connection pools, the first batches), then measure.
foreach (var t in targets)
{
    await RunWrkAsync(threads, connections, 3, t.Script, t.Url);
}

var results = targets.ToDictionary(t => t.Name, _ => new List<Round>());
for (var round = 1; round <= rounds; round++)
{
    // Candidate and baseline take turns going first, so that a drift in the machine's load within a round falls on both.
    var order = round % 2 == 1 ? targets : [.. targets.Select((t, i) => (t, key: t.Baseline ? i - 1.5 : i)).OrderBy(x => x.key).Select(x => x.t)];
    foreach (var t in order)
    {
        var client = t.Baseline ? baseline! : predictor;
        var before = t.Model is null ? null : await CacheAsync(client, t.Model);
        var server = !t.Predictor ? Environment.ProcessId : t.Baseline ? baselinePid : predictorPid;
        var cpuBefore = CpuSeconds(server);
        var output = await RunWrkAsync(threads, connections, duration, t.Script, t.Url);
        var cpu = CpuSeconds(server) - cpuBefore;
        var after = t.Model is null ? null : await CacheAsync(client, t.Model);
        var r = WrkResult.Parse(output);
        r = r with { CpuMicrosecondsPerRequest = cpu * 1e6 / Math.Max(1, r.RequestsPerSecond * duration) };
        double? hitRate = before is { } b && after is { } a && a.Hits + a.Misses > b.Hits + b.Misses
            ? (double)(a.Hits - b.Hits) / (a.Hits + a.Misses - b.Hits - b.Misses)
            : null;
        results[t.Name].Add(new Round(r, hitRate));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round} {t.Name,-10} {r}, server CPU {r.CpuMicrosecondsPerRequest:0.0} µs/request{(hitRate is { } h ? $", cache hit rate {h:P1}" : "")}"));
    }
}

Console.WriteLine();
Console.WriteLine("| path | req/s (median, min–max) | share of bare req/s | p99 ms | p99 vs bare p99 | server CPU µs/request | cache hit rate | non-2xx |");
Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
foreach (var t in targets)
{
    var bareRounds = results[t.Bare];
    var rs = results[t.Name];
    var shares = rs.Select((r, i) => r.Wrk.RequestsPerSecond / bareRounds[i].Wrk.RequestsPerSecond).ToList();
    var p99s = rs.Select((r, i) => r.Wrk.P99Ms / bareRounds[i].Wrk.P99Ms).ToList();
    var hits = rs.Where(r => r.HitRate is not null).Select(r => r.HitRate!.Value).ToList();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {t.Name} (vs {t.Bare}) | {Median(rs.Select(r => r.Wrk.RequestsPerSecond)):0} ({rs.Min(r => r.Wrk.RequestsPerSecond):0}–{rs.Max(r => r.Wrk.RequestsPerSecond):0}) | {Median(shares):P0} ({shares.Min():P0}–{shares.Max():P0}) | {Median(rs.Select(r => r.Wrk.P99Ms)):0.00} ({rs.Min(r => r.Wrk.P99Ms):0.00}–{rs.Max(r => r.Wrk.P99Ms):0.00}) | {Median(p99s):0.00}× ({p99s.Min():0.00}–{p99s.Max():0.00}) | {Median(rs.Select(r => r.Wrk.CpuMicrosecondsPerRequest)):0.0} ({rs.Min(r => r.Wrk.CpuMicrosecondsPerRequest):0.0}–{rs.Max(r => r.Wrk.CpuMicrosecondsPerRequest):0.0}) | {(hits.Count == 0 ? "–" : $"{hits.Average():P1}")} | {rs.Sum(r => r.Wrk.Non2xx)} |"));
}

foreach (var suffix in baseline is null ? [""] : new[] { "", "@base" })
{
    if (results.TryGetValue("dynamic" + suffix, out var dynamicRounds) && results.TryGetValue("static" + suffix, out var staticRounds))
    {
        var dynamicShare = Median(dynamicRounds.Select((r, i) => r.Wrk.RequestsPerSecond / results["bare"][i].Wrk.RequestsPerSecond));
        var dynamicP99 = Median(dynamicRounds.Select((r, i) => r.Wrk.P99Ms / results["bare"][i].Wrk.P99Ms));
        var staticShare = Median(staticRounds.Select((r, i) => r.Wrk.RequestsPerSecond / results["bare-small"][i].Wrk.RequestsPerSecond));
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"goals{(suffix.Length == 0 ? "" : " of the baseline")} (medians): dynamic random >= 80% of bare: {Met(dynamicShare >= 0.8)} ({dynamicShare:P0}); dynamic p99 <= 1.5x bare p99: {Met(dynamicP99 <= 1.5)} ({dynamicP99:0.00}x); static >= 90% of bare: {Met(staticShare >= 0.9)} ({staticShare:P0})"));
    }
}

if (baseline is not null)
{
    // Round by round: the two builds met the same machine within seconds of each other.
    Console.WriteLine();
    Console.WriteLine("| path | candidate vs baseline req/s | candidate vs baseline p99 | server CPU µs/request, candidate − baseline |");
    Console.WriteLine("| --- | ---: | ---: | ---: |");
    foreach (var t in targets.Where(t => t.Predictor && !t.Baseline))
    {
        var c = results[t.Name];
        var b = results[t.Name + "@base"];
        var rps = c.Select((r, i) => r.Wrk.RequestsPerSecond / b[i].Wrk.RequestsPerSecond).ToList();
        var p99 = c.Select((r, i) => r.Wrk.P99Ms / b[i].Wrk.P99Ms).ToList();
        var cpu = c.Select((r, i) => r.Wrk.CpuMicrosecondsPerRequest - b[i].Wrk.CpuMicrosecondsPerRequest).ToList();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {t.Name} | {Median(rps):0.00}× ({rps.Min():0.00}–{rps.Max():0.00}) | {Median(p99):0.00}× ({p99.Min():0.00}–{p99.Max():0.00}) | {Median(cpu):+0.0;-0.0;0.0} ({cpu.Min():+0.0;-0.0;0.0} to {cpu.Max():+0.0;-0.0;0.0}) |"));
    }
}

var model = await predictor.GetFromJsonAsync<JsonElement>("v1/models/dynamic");
Console.WriteLine($"static model: {(await predictor.GetFromJsonAsync<JsonElement>("v1/models/static")).GetProperty("ctm").GetProperty("requests")} requests from its table");
Console.WriteLine($"dynamic model: batching {model.GetProperty("ctm").GetProperty("batching")}, cache {model.GetProperty("ctm").GetProperty("cache")}");
if (baseline is not null)
{
    var baselineModel = await baseline.GetFromJsonAsync<JsonElement>("v1/models/dynamic");
    Console.WriteLine($"baseline dynamic model: batching {baselineModel.GetProperty("ctm").GetProperty("batching")}, cache {baselineModel.GetProperty("ctm").GetProperty("cache")}");
    baseline.Dispose();
}

Console.WriteLine($"load average after: {LoadAverage()}");
await bare.StopAsync();

static string Met(bool ok) => ok ? "met" : "NOT met";

// CPU seconds a process has used (user + system), from /proc: per request, it holds up better than req/s on a shared machine.
static double CpuSeconds(int pid)
{
    var stat = File.ReadAllText($"/proc/{pid}/stat");
    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
    return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
}

static double Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
}

static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

static async Task ServeAsync(ServingSystem system, HttpClient predictor, string name, byte[] onnx)
{
    using var registry = system.Client("Registry");
    using var content = new ByteArrayContent(onnx);
    content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
    var response = await registry.PostAsync($"v1/datasets/{name}/versions?operator=bench&source=Ctm.Bench.Serving", content);
    if (!response.IsSuccessStatusCode)
    {
        throw new InvalidOperationException($"the Registry refused the {name} model: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    var described = await system.EventuallyAsync<JsonElement?>(async () =>
    {
        var r = await predictor.GetAsync($"v1/models/{name}");
        return r.IsSuccessStatusCode && (await r.Content.ReadFromJsonAsync<JsonElement>()).TryGetProperty("ctm", out var ctm)
            && ctm.ValueKind == JsonValueKind.Object && ctm.TryGetProperty("version", out var v) && v.ValueKind == JsonValueKind.Number ? ctm : null;
    }, TimeSpan.FromSeconds(120), $"the Predictor serving {name}");
    var d = described!.Value;
    Console.WriteLine($"# model '{name}': {d.GetProperty("path")} path, table {(d.TryGetProperty("tableSize", out var size) ? size : "none")}, inputs {string.Join(", ", d.GetProperty("inputs").EnumerateArray())}");
}

static async Task WaitServingAsync(ServingSystem system, HttpClient predictor, string name) =>
    await system.EventuallyAsync<string>(async () =>
    {
        var r = await predictor.GetAsync($"v1/models/{name}");
        return r.IsSuccessStatusCode && (await r.Content.ReadFromJsonAsync<JsonElement>()).TryGetProperty("ctm", out var ctm)
            && ctm.ValueKind == JsonValueKind.Object && ctm.TryGetProperty("version", out var v) && v.ValueKind == JsonValueKind.Number ? name : null;
    }, TimeSpan.FromSeconds(120), $"the baseline Predictor serving {name}");

static async Task<(long Hits, long Misses)?> CacheAsync(HttpClient predictor, string name)
{
    var ctm = (await predictor.GetFromJsonAsync<JsonElement>($"v1/models/{name}")).GetProperty("ctm");
    return ctm.TryGetProperty("cache", out var cache) && cache.ValueKind == JsonValueKind.Object ? (cache.GetProperty("hits").GetInt64(), cache.GetProperty("misses").GetInt64()) : null;
}

static async Task<string> RunWrkAsync(int threads, int connections, int seconds, string script, string url)
{
    var path = Path.Combine(Path.GetTempPath(), $"ctm-bench-{Environment.ProcessId}-{script.GetHashCode():x8}.lua");
    await File.WriteAllTextAsync(path, script);
    // Every request carries a reader's API key, as in production (the bare endpoint gets it too and ignores it).
    var key = TestKeys.Key(TestKeys.OnlyRole(Ctm.ServiceDefaults.Auth.CtmRoles.Reader));
    var start = new ProcessStartInfo("wrk", $"-t{threads} -c{connections} -d{seconds}s --latency -H \"Authorization: ApiKey {key}\" -s {path} {url}") { RedirectStandardOutput = true, RedirectStandardError = true };
    using var process = Process.Start(start) ?? throw new InvalidOperationException("wrk did not start: install it (apt-get install -y wrk)");
    var output = await process.StandardOutput.ReadToEndAsync();
    await process.WaitForExitAsync();
    return output;
}

int Arg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

namespace Ctm.Bench.Serving
{
    /// <summary>The Registry and the Predictor as real processes on a database and virtual host of their own, with the demo's settings.</summary>
    internal sealed class ServingSystem : CtmSystem
    {
        protected override IReadOnlyList<string> StartedServices => ["Registry", "Predictor"];

        protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>();
    }

    internal sealed record Round(WrkResult Wrk, double? HitRate);

    /// <summary>One wrk target: <paramref name="Bare"/> names the bare target it is compared with in each round.</summary>
    internal sealed record Target(string Name, string Url, string Script, string? Model, string Bare, bool Predictor, bool Ladder)
    {
        /// <summary>Served by the baseline build (<c>--baseline-dir</c>).</summary>
        public bool Baseline { get; init; }
    }

    /// <summary>The figures of one wrk run.</summary>
    internal sealed partial record WrkResult(double RequestsPerSecond, double P50Ms, double P99Ms, long Non2xx)
    {
        /// <summary>CPU time of the serving process per request (the bare endpoint's: this process's).</summary>
        public double CpuMicrosecondsPerRequest { get; init; }

        public static WrkResult Parse(string output)
        {
            var match = RequestsPerSecondPattern().Match(output);
            if (!match.Success)
            {
                throw new InvalidOperationException($"wrk printed no Requests/sec:\n{output}");
            }

            var rps = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
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

    /// <summary>wrk Lua scripts: each wrk thread draws its instances from its own fixed seed, a new instance per request.</summary>
    internal static class Scripts
    {
        private const string Common = """
            wrk.method = "POST"
            wrk.headers["Content-Type"] = "application/json"
            local counter = 0
            function setup(thread)
              counter = counter + 1
              thread:set("id", counter)
            end

            """;

        /// <summary>
        /// 32 numeric features f0..f31 drawn from 4,096 values in [-2, 2): 50,000 distinct requests per wrk thread, made
        /// before the run (building each request in Lua as it goes would make wrk, on the same two cores, the bottleneck),
        /// drawn at random per request; 100,000 in all against a cache of 10,000, so the cache rarely helps.
        /// </summary>
        public const string Numeric = Common + """
            function init(args)
              math.randomseed(1000 + id)
              local values = {}
              for i = 1, 4096 do values[i] = string.format("%.4f", math.random() * 4 - 2) end
              requests = {}
              for r = 1, 50000 do
                local parts = {}
                for f = 0, 31 do parts[f + 1] = '"f' .. f .. '":' .. values[math.random(4096)] end
                requests[r] = wrk.format(nil, nil, nil, '{"instances":[{' .. table.concat(parts, ",") .. '}]}')
              end
            end
            request = function()
              return requests[math.random(50000)]
            end
            """;

        /// <summary>color, size, shape and material drawn at random (an unseen color among them): every combination, made before the run.</summary>
        public const string Categorical = Common + """
            function init(args)
              math.randomseed(2000 + id)
              local colors = { "red", "green", "blue", "black", "white", "purple-unseen" }
              local sizes = { "S", "M", "L", "XL" }
              local shapes = { "circle", "square", "star" }
              local materials = { "wood", "steel", "glass", "paper", "cloth" }
              requests = {}
              for r = 1, 4096 do
                requests[r] = wrk.format(nil, nil, nil, '{"instances":[{"color":"' .. colors[math.random(#colors)] .. '","size":"' .. sizes[math.random(#sizes)]
                  .. '","shape":"' .. shapes[math.random(#shapes)] .. '","material":"' .. materials[math.random(#materials)] .. '"}]}')
              end
            end
            request = function()
              return requests[math.random(4096)]
            end
            """;

        /// <summary>A GET without a body (the ladder's rungs that do no model work).</summary>
        public const string Get = "wrk.method = \"GET\"\n";

        /// <summary>One fixed numeric instance (the hot-key cache answers after the first request).</summary>
        public static readonly string Fixed = Common + "wrk.body = '{\"instances\":[{"
            + string.Join(",", Enumerable.Range(0, 32).Select(f => string.Create(CultureInfo.InvariantCulture, $"\"f{f}\":{((f * 0.37) % 4) - 2:0.0000}")))
            + "}]}'\n";
    }

    /// <summary>The two benchmark models, trained here from fixed seeds with the project's own engine and exporter.</summary>
    internal static class Models
    {
        public static byte[] Categorical(OnnxInputLayout layout)
        {
            var random = new Random(1);
            string[] colors = ["red", "green", "blue", "black", "white"], sizes = ["S", "M", "L", "XL"], shapes = ["circle", "square", "star"], materials = ["wood", "steel", "glass", "paper", "cloth"];
            var n = 3000;
            var c = new string?[n];
            var s = new string?[n];
            var h = new string?[n];
            var m = new string?[n];
            var y = new string?[n];
            for (var i = 0; i < n; i++)
            {
                c[i] = colors[random.Next(colors.Length)];
                s[i] = sizes[random.Next(sizes.Length)];
                h[i] = shapes[random.Next(shapes.Length)];
                m[i] = materials[random.Next(materials.Length)];
                y[i] = (c[i] == "red" ? 1 : 0) + (s[i] == "L" ? 1 : 0) + (m[i] == "steel" ? 0.5 : 0) + random.NextDouble() > 1.2 ? "yes" : "no";
            }

            var data = TabularDataset.CreateBuilder().AddCategorical("color", c).AddCategorical("size", s).AddCategorical("shape", h).AddCategorical("material", m).WithLabel("bought", y).Build();
            return new Ctm.Ml.Engine.ManagedTrainingEngine().Train(data, new TrainingOptions { Task = ModelTask.BinaryClassification, HiddenLayers = [32], Epochs = 5 })
                .ToOnnx(new OnnxExportOptions { Layout = layout });
        }

        public static byte[] Numeric(OnnxInputLayout layout)
        {
            return new Ctm.Ml.Engine.ManagedTrainingEngine().Train(Ctm.Bench.Shared.NumericData.ThirtyTwoFeatures(4000), new TrainingOptions { Task = ModelTask.BinaryClassification, HiddenLayers = [32], Epochs = 5 })
                .ToOnnx(new OnnxExportOptions { Layout = layout });
        }
    }
}
