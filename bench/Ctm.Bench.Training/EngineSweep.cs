using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Ctm.Ml;
using Ctm.Ml.Engine;
using Ctm.Ml.Engine.Ort;

namespace Ctm.Bench.Training;

/// <summary>
/// Training samples/s of every engine side by side in one run: the managed engine, the ONNX Runtime engine on the CPU
/// and (when CUDA loads) on CUDA, and PyTorch on the CPU and (when torch.cuda.is_available()) on CUDA, over batch
/// sizes at one width and widths at one batch size. Each Ctm cell is the engine's own Estimate (untimed warm-up, then
/// a timed window of real steps); PyTorch runs the same cells in one process.
/// </summary>
internal static class EngineSweep
{
    private static readonly int[] Batches = [256, 1024, 4096, 8192];
    private static readonly int[] Widths = [64, 256, 1024];
    private const int SweepWidth = 256, SweepBatch = 1024;

    public static void Run(string[] args, Func<string, int, int> argInt, Func<string, string, string> argString)
    {
        var quick = args.Contains("--quick");
        var window = double.Parse(argString("--window", quick ? "1.5" : "4"), CultureInfo.InvariantCulture);
        var rows = argInt("--rows", 65_536);
        var threads = argInt("--threads", Environment.ProcessorCount);
        var python = argString("--python", "python3");
        var output = argString("--out", "");
        var skipTorch = args.Contains("--skip-torch");
        var skipManaged = args.Contains("--skip-managed");
        List<(int Batch, int Width)> cells = [.. Batches.Select(b => (b, SweepWidth)), .. Widths.Where(w => w != SweepWidth).Select(w => (SweepBatch, w))];
        if (quick && argString("--cells", "") is { Length: > 0 } only)
        {
            cells = [.. only.Split(',').Select(c => c.Split(':')).Select(p => (int.Parse(p[0], CultureInfo.InvariantCulture), int.Parse(p[1], CultureInfo.InvariantCulture)))];
        }

        var header = new StringBuilder();
        header.AppendLine(CultureInfo.InvariantCulture, $"command: {Environment.GetCommandLineArgs()[0]} {string.Join(' ', args)}");
        header.AppendLine(CultureInfo.InvariantCulture, $"machine: {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}, ONNX Runtime {Ctm.Onnx.OnnxRuntime.Version}, load average {File.ReadAllText("/proc/loadavg").Trim()}");
        var cuda = OnnxRuntimeTrainingEngine.IsCudaAvailable;
        header.AppendLine(cuda ? "onnxruntime cuda: available" : $"onnxruntime cuda: not available ({OnnxRuntimeTrainingEngine.CudaUnavailableReason})");
        header.AppendLine(CultureInfo.InvariantCulture, $"model: 32 numeric features -> W -> W -> 1, ReLU, logistic loss, Adam lr 1e-3; {rows} synthetic rows; {threads} threads; timed window {window} s per cell after warm-up");
        Console.Write(header);

        var raw = SyntheticData.Generate(rows, 42);
        var train = SyntheticData.ToDataset(raw);
        var dir = Path.Combine(Path.GetTempPath(), "ctm-bench-engines");
        Directory.CreateDirectory(dir);
        var trainPath = Path.Combine(dir, "train.f32");
        SyntheticData.Write(trainPath, raw);

        var results = new Dictionary<(string Engine, int Batch, int Width), double>();
        var torchNote = "";
        if (!skipTorch)
        {
            torchNote = RunTorch(python, trainPath, window, threads, cells, results);
            Console.WriteLine(torchNote);
        }

        var engines = new List<(string Name, ITrainingEngine Engine)>();
        if (!skipManaged)
        {
            engines.Add(("managed", new ManagedTrainingEngine()));
        }

        engines.Add(("onnxruntime-cpu", new OnnxRuntimeTrainingEngine(OrtTrainingDevice.Cpu)));
        if (cuda)
        {
            engines.Add(("onnxruntime-cuda", new OnnxRuntimeTrainingEngine(OrtTrainingDevice.Cuda)));
        }

        foreach (var (batch, width) in cells)
        {
            var options = new TrainingOptions
            {
                Task = ModelTask.BinaryClassification, HiddenLayers = [width, width], Epochs = 1, BatchSize = batch,
                LearningRate = 1e-3, Seed = 42, MaxThreads = threads,
            };
            foreach (var (name, engine) in engines)
            {
                var estimate = engine.Estimate(train, options, warmup: TimeSpan.FromSeconds(window));
                results[(name, batch, width)] = estimate.SamplesPerSecond;
                Console.WriteLine($"{name,-17} batch {batch,5} width {width,5}: {estimate.SamplesPerSecond,12:N0} samples/s ({estimate.WarmupSamples:N0} rows in {estimate.WarmupDuration.TotalSeconds:F2} s)");
            }
        }

        List<string> columns = [.. engines.Select(e => e.Name), .. new[] { "torch-cpu", "torch-cuda" }.Where(t => results.Keys.Any(k => k.Engine == t))];
        var ratioBase = columns.Contains("torch-cuda") ? "torch-cuda" : columns.Contains("torch-cpu") ? "torch-cpu" : null;
        var table = new StringBuilder();
        table.Append("| batch | width |");
        foreach (var c in columns)
        {
            table.Append(CultureInfo.InvariantCulture, $" {c} |");
        }

        foreach (var c in engines.Select(e => e.Name).Where(_ => ratioBase is not null))
        {
            table.Append(CultureInfo.InvariantCulture, $" {c} / {ratioBase} |");
        }

        table.AppendLine();
        table.Append("| ---: | ---: |");
        table.Append(string.Concat(Enumerable.Repeat(" ---: |", columns.Count + (ratioBase is null ? 0 : engines.Count))));
        table.AppendLine();
        foreach (var (batch, width) in cells)
        {
            table.Append(CultureInfo.InvariantCulture, $"| {batch} | {width} |");
            foreach (var c in columns)
            {
                table.Append(results.TryGetValue((c, batch, width), out var v) ? string.Create(CultureInfo.InvariantCulture, $" {v:N0} |") : " - |");
            }

            if (ratioBase is not null)
            {
                foreach (var (name, _) in engines)
                {
                    table.Append(results.TryGetValue((name, batch, width), out var v) && results.TryGetValue((ratioBase, batch, width), out var b)
                        ? string.Create(CultureInfo.InvariantCulture, $" {v / b:F2}x |") : " - |");
                }
            }

            table.AppendLine();
        }

        Console.WriteLine();
        Console.Write(table);
        var parity = args.Contains("--parity") ? Parity(engines, argInt("--parity-rows", 100_000), threads) : "";
        if (output.Length > 0)
        {
            File.WriteAllText(output, $"```\n{header}{torchNote}\n```\n\nTraining samples/s (higher is better):\n\n{table}{parity}");
            Console.WriteLine($"written: {output}");
        }
    }

    /// <summary>
    /// Each engine trains the same rows with the same seed and options (32 → 64 → 64 → 1, batch 256, 3 epochs) and is
    /// scored on the same held-out rows: the engines must agree on quality, not only differ in speed.
    /// </summary>
    private static string Parity(List<(string Name, ITrainingEngine Engine)> engines, int rows, int threads)
    {
        var train = SyntheticData.ToDataset(SyntheticData.Generate(rows, 42));
        var test = SyntheticData.ToDataset(SyntheticData.Generate(20_000, 4242));
        var options = new TrainingOptions
        {
            Task = ModelTask.BinaryClassification, HiddenLayers = [64, 64], Epochs = 3, BatchSize = 256,
            LearningRate = 1e-3, Seed = 42, MaxThreads = threads,
        };
        var table = new StringBuilder();
        table.AppendLine(CultureInfo.InvariantCulture, $"\nSame data, same seed ({rows:N0} training rows, 20,000 held-out rows, 32 → 64 → 64 → 1, batch 256, 3 epochs):\n");
        table.AppendLine("| engine | test accuracy | test log loss | final training loss | wall s |");
        table.AppendLine("| --- | ---: | ---: | ---: | ---: |");
        foreach (var (name, engine) in engines)
        {
            var clock = Stopwatch.StartNew();
            var model = engine.Train(train, options);
            var wall = clock.Elapsed.TotalSeconds;
            var metrics = Evaluator.Evaluate(model, test).Overall;
            var line = string.Create(CultureInfo.InvariantCulture, $"| {name} | {metrics.Accuracy:P2} | {metrics.LogLoss:F4} | {model.LossCurve[^1]:F4} | {wall:F2} |");
            Console.WriteLine(line);
            table.AppendLine(line);
        }

        return table.ToString();
    }

    private static string RunTorch(string python, string trainPath, double window, int threads, List<(int Batch, int Width)> cells, Dictionary<(string, int, int), double> results)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "torch_sweep.py");
        var start = new ProcessStartInfo(python, [script, trainPath, window.ToString(CultureInfo.InvariantCulture), threads.ToString(CultureInfo.InvariantCulture),
            string.Join(',', cells.Select(c => $"{c.Batch}:{c.Width}"))])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // As the single-model peer: old OpenBLAS pins in the environment slow a current processor.
        start.Environment.Remove("OPENBLAS_CORETYPE");
        start.Environment.Remove("OPENBLAS_L2_SIZE");
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"torch: '{python}' could not start ({e.Message}); pass --python PATH or --skip-torch";
        }

        using (process)
        {
            var errors = process.StandardError.ReadToEndAsync();
            var note = "torch: ";
            while (process.StandardOutput.ReadLine() is { } line)
            {
                using var json = JsonDocument.Parse(line);
                var root = json.RootElement;
                if (root.TryGetProperty("torch", out var version))
                {
                    note += $"{version.GetString()}, devices {root.GetProperty("devices")}, {root.GetProperty("cuda_device")}";
                }
                else if (root.TryGetProperty("samples_per_sec", out var rate))
                {
                    var device = root.GetProperty("device").GetString();
                    int batch = root.GetProperty("batch").GetInt32(), width = root.GetProperty("width").GetInt32();
                    results[($"torch-{device}", batch, width)] = rate.GetDouble();
                    Console.WriteLine($"torch-{device,-11} batch {batch,5} width {width,5}: {rate.GetDouble(),12:N0} samples/s");
                }
            }

            process.WaitForExit();
            return process.ExitCode == 0 ? note : $"torch: failed ({process.ExitCode}): {errors.Result.Trim()}";
        }
    }
}
