using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Ctm.Bench.Training;
using Ctm.Ml;
using Ctm.Ml.Engine;
using Ctm.Onnx;

// Training throughput of the managed engine against PyTorch on the same data, then ONNX Runtime inference
// latency of the exported model. Not a test: it prints figures and the command that made them.
if (args.Contains("--engines"))
{
    EngineSweep.Run(args, ArgInt, ArgString);
    return;
}

var rows = ArgInt("--rows", 200_000);
var testRows = ArgInt("--test-rows", 20_000);
var epochs = ArgInt("--epochs", 3);
var threads = ArgInt("--threads", Environment.ProcessorCount);
var python = ArgString("--python", "/usr/bin/python3");
var skipTorch = args.Contains("--skip-torch");
var repeat = ArgInt("--repeat", 3);
var dir = Path.Combine(Path.GetTempPath(), "ctm-bench-training");
Directory.CreateDirectory(dir);
var trainPath = Path.Combine(dir, "train.f32");
var testPath = Path.Combine(dir, "test.f32");

Console.WriteLine($"command: dotnet run -c Release --project bench/Ctm.Bench.Training -- {string.Join(' ', args)}");
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}, Vector512 {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}");

var trainRaw = SyntheticData.Generate(rows, 42);
var testRaw = SyntheticData.Generate(testRows, 4242);
SyntheticData.Write(trainPath, trainRaw);
SyntheticData.Write(testPath, testRaw);
var train = SyntheticData.ToDataset(trainRaw);
var test = SyntheticData.ToDataset(testRaw);
Console.WriteLine($"data: {rows} train rows, {testRows} test rows, {SyntheticData.Features} features, 32 → 64 → 64 → 1 ReLU, logistic loss, Adam lr 1e-3, batch 256, {epochs} epochs; samples/s is the best of {repeat} runs per side");
Console.WriteLine($"load average before: {File.ReadAllText("/proc/loadavg").Trim()}");

if (args.Contains("--profile"))
{
    PhaseProfile.Run(train);
    return;
}

if (args.Contains("--estimates"))
{
    for (var i = 0; i < 4; i++)
    {
        var e = new ManagedTrainingEngine().Estimate(train, new TrainingOptions { Task = ModelTask.BinaryClassification, HiddenLayers = [64, 64], Epochs = epochs, MaxThreads = ArgInt("--threads", 1) }, warmup: TimeSpan.FromMilliseconds(300 * (i + 1)));
        Console.WriteLine($"estimate {300 * (i + 1)} ms: {e.SamplesPerSecond:N0} samples/s, CPU {e.CpuUtilization:P0}");
    }

    return;
}

if (ArgInt("--vocabulary", 0) is var vocabulary and > 0)
{
    // High-cardinality categoricals: the first layer's embedding rows grow with the vocabulary.
    var rng = new Rng(5);
    var cats = new string?[2][];
    for (var c = 0; c < 2; c++)
    {
        cats[c] = new string?[rows];
        for (var r = 0; r < rows; r++)
        {
            cats[c][r] = $"v{(int)Math.Min(vocabulary - 1, Math.Abs(rng.NextGaussian()) * vocabulary / 3)}";
        }
    }

    var builder = TabularDataset.CreateBuilder();
    for (var j = 0; j < 8; j++)
    {
        builder.AddNumeric($"x{j}", train.GetNumeric($"x{j}"));
    }

    var wide = builder.AddCategorical("c0", cats[0]).AddCategorical("c1", cats[1]).WithLabel("y", train.ClassLabels!).Build();
    var wideModel = new ManagedTrainingEngine().Train(wide, new TrainingOptions { Task = ModelTask.BinaryClassification, HiddenLayers = [64, 64], Epochs = epochs, MaxThreads = threads });
    Console.WriteLine($"vocabulary {vocabulary} x 2 features: {wideModel.SamplesPerSecond:N0} samples/s, {wideModel.State.ParameterCount:N0} parameters, vocabularies {string.Join(", ", wideModel.State.Vocabularies.Select(v => v.Length))}");
    return;
}

var seeds = ArgInt("--seeds", 0);
if (seeds > 0)
{
    // Accuracy spread over seeds (1 thread each): one seed's gap says little about a systematic one.
    var ctmAccuracies = new List<double>();
    var torchAccuracies = new List<double>();
    for (var seed = 1; seed <= seeds; seed++)
    {
        var options = new TrainingOptions
        {
            Task = ModelTask.BinaryClassification, HiddenLayers = [64, 64], Epochs = epochs, BatchSize = 256,
            LearningRate = 1e-3, Seed = seed, MaxThreads = 1,
        };
        ctmAccuracies.Add(Evaluator.Evaluate(new ManagedTrainingEngine().Train(train, options), test).Overall.Accuracy!.Value);
        var torchSeed = skipTorch ? null : RunTorch(1, seed);
        if (torchSeed is not null)
        {
            torchAccuracies.Add(torchSeed.Accuracy);
        }

        Console.WriteLine($"seed {seed}: ctm {ctmAccuracies[^1]:P2}, torch {(torchSeed is null ? "-" : torchSeed.Accuracy.ToString("P2", CultureInfo.InvariantCulture))}");
    }

    Console.WriteLine($"mean test accuracy over {seeds} seeds: ctm {ctmAccuracies.Average():P2} (min {ctmAccuracies.Min():P2}, max {ctmAccuracies.Max():P2}), torch {(torchAccuracies.Count == 0 ? "-" : $"{torchAccuracies.Average():P2} (min {torchAccuracies.Min():P2}, max {torchAccuracies.Max():P2})")}");
    return;
}

var threadCounts = threads == 1 ? new[] { 1 } : new[] { 1, threads };
var engine = new ManagedTrainingEngine();
TrainedModel? best = null;
double bestAccuracy = 0;
TorchResult? bestTorch = null;
foreach (var t in threadCounts)
{
    // PyTorch first at each thread count, so the managed run is not favoured by a warmer machine. Each side
    // keeps its best of --repeat runs: the cores here are shared, and the best run is the least disturbed one.
    TorchResult? torch = null;
    for (var r = 0; r < repeat && !skipTorch; r++)
    {
        var run = RunTorch(t, quiet: r > 0);
        torch = torch is null || (run is not null && run.SamplesPerSec > torch.SamplesPerSec) ? run : torch;
    }

    var options = new TrainingOptions
    {
        Task = ModelTask.BinaryClassification, HiddenLayers = [64, 64], Epochs = epochs, BatchSize = 256,
        LearningRate = 1e-3, Seed = 42, MaxThreads = t,
    };
    var estimate = engine.Estimate(train, options, warmup: TimeSpan.FromMilliseconds(300));
    Console.WriteLine($"[{t} thread(s)] ctm estimate (300 ms warm-up): {estimate.SamplesPerSecond:N0} samples/s, CPU {estimate.CpuUtilization:P0} of {Environment.ProcessorCount} cores, peak working set {estimate.PeakMemoryBytes / 1048576} MiB, projected {estimate.ProjectedDuration.TotalSeconds:F2} s");
    var model = engine.Train(train, options);
    for (var r = 1; r < repeat; r++)
    {
        var again = engine.Train(train, options);
        model = again.SamplesPerSecond > model.SamplesPerSecond ? again : model;
    }

    var accuracy = Evaluator.Evaluate(model, test).Overall.Accuracy!.Value;
    Console.WriteLine($"[{t} thread(s)] ctm:   {model.SamplesPerSecond,11:N0} samples/s (training loop; {rows * (double)epochs / model.Duration.TotalSeconds:N0} incl. preprocessing), wall {model.Duration.TotalSeconds:F2} s, test accuracy {accuracy:P2}, loss [{Curve(model.LossCurve)}]");
    if (torch is not null)
    {
        Console.WriteLine($"[{t} thread(s)] torch: {torch.SamplesPerSec,11:N0} samples/s (training loop), wall {torch.Seconds:F2} s, test accuracy {torch.Accuracy:P2}, loss [{Curve(torch.LossCurve)}]");
        Console.WriteLine($"[{t} thread(s)] ratio: {model.SamplesPerSecond / torch.SamplesPerSec:F2}x");
        bestTorch = bestTorch is null || torch.SamplesPerSec > bestTorch.SamplesPerSec ? torch : bestTorch;
    }

    if (best is null || model.SamplesPerSecond > best.SamplesPerSecond)
    {
        (best, bestAccuracy) = (model, accuracy);
    }
}

if (bestTorch is not null)
{
    Console.WriteLine($"result: ctm {best!.SamplesPerSecond:N0} samples/s vs PyTorch {bestTorch.SamplesPerSec:N0} samples/s (each at its best thread count): {best.SamplesPerSecond / bestTorch.SamplesPerSec:F2}x; test accuracy {bestAccuracy:P2} vs {bestTorch.Accuracy:P2} ({(bestAccuracy - bestTorch.Accuracy) * 100:+0.00;-0.00} points)");
}

OnnxLatency(best!);

static string Curve(IEnumerable<double> curve) => string.Join(", ", curve.Select(l => l.ToString("F4", CultureInfo.InvariantCulture)));

TorchResult? RunTorch(int threads, int seed = 42, bool quiet = false)
{
    var script = Path.Combine(AppContext.BaseDirectory, "torch_peer.py");
    var start = new ProcessStartInfo(python, [script, trainPath, testPath, epochs.ToString(CultureInfo.InvariantCulture), threads.ToString(CultureInfo.InvariantCulture), seed.ToString(CultureInfo.InvariantCulture)])
    {
        RedirectStandardOutput = true,
        RedirectStandardError = true,
    };

    // These pin old OpenBLAS builds to a safe kernel on some processors and slow a current one; the peer runs
    // with them unset (its BLAS kernel is printed), nothing else does.
    start.Environment.Remove("OPENBLAS_CORETYPE");
    start.Environment.Remove("OPENBLAS_L2_SIZE");
    using var process = Process.Start(start)!;
    var output = process.StandardOutput.ReadToEnd();
    var error = process.StandardError.ReadToEnd();
    process.WaitForExit();
    if (process.ExitCode != 0)
    {
        Console.WriteLine($"torch: failed ({process.ExitCode}): {error.Trim()}");
        return null;
    }

    var result = JsonSerializer.Deserialize<TorchResult>(output.Trim().Split('\n')[^1], new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower })!;
    if (seed != 42 || quiet)
    {
        return result;
    }

    Console.WriteLine($"[{threads} thread(s)] torch {result.Torch}, BLAS (OPENBLAS_CORETYPE/L2_SIZE unset for this process): {JsonSerializer.Serialize(result.Blas)}");
    return result;
}

static void OnnxLatency(TrainedModel model)
{
    using var session = OnnxSession.Create(model.ToOnnx(), new OnnxSessionOptions { IntraOpThreads = 1 });
    var names = model.State.Features.Select(f => f.Name).ToArray();
    var rng = new Rng(7);

    long[] Measure(int batch, int runs)
    {
        // Ctm's export packs the numeric features into one [N, k] input (OnnxInputLayout.Packed).
        FloatTensorInput[] inputs = [new(OnnxExporter.NumericInput, Enumerable.Range(0, batch * names.Length).Select(_ => (float)rng.NextGaussian()).ToArray(), [batch, names.Length])];
        var output = new float[batch * 2];
        FloatTensorOutput[] outputs = [new("probabilities", output)];
        for (var i = 0; i < 200; i++)
        {
            session.Run(inputs, outputs);
        }

        var ticks = new long[runs];
        for (var i = 0; i < runs; i++)
        {
            var t = Stopwatch.GetTimestamp();
            session.Run(inputs, outputs);
            ticks[i] = Stopwatch.GetTimestamp() - t;
        }

        Array.Sort(ticks);
        return ticks;
    }

    static double Us(long ticks) => ticks * 1e6 / Stopwatch.Frequency;
    var single = Measure(1, 5000);
    Console.WriteLine($"onnx runtime, 1 row: p50 {Us(single[single.Length / 2]):F1} µs, p99 {Us(single[(int)(single.Length * 0.99)]):F1} µs (intra-op threads 1, float fast path)");
    var batched = Measure(256, 1000);
    var mean = batched.Average(t => Us(t));
    Console.WriteLine($"onnx runtime, batch 256: p50 {Us(batched[batched.Length / 2]):F1} µs, {256 / (mean / 1e6):N0} rows/s");
}

static int ArgInt(string name, int fallback) => int.Parse(ArgString(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

static string ArgString(string name, string fallback)
{
    var all = Environment.GetCommandLineArgs();
    var i = Array.IndexOf(all, name);
    return i >= 0 && i + 1 < all.Length ? all[i + 1] : fallback;
}

internal sealed record TorchResult(double SamplesPerSec, double Seconds, double Accuracy, double[] LossCurve, string Torch, int Threads, JsonElement Blas);
