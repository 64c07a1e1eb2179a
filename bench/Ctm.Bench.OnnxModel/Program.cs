using System.Diagnostics;
using System.Globalization;
using Ctm.Ml;
using Ctm.Ml.Engine;
using Ctm.Onnx;
using Ctm.Onnx.Model;

// Reading and writing ONNX models through Ctm.Onnx's public API only (OnnxModelReader, OnnxGraphReader,
// OnnxGraphBuilder), so the same file measures any codec behind it: run it on two checkouts to compare.
// Models: a Ctm export trained here (mixed features, a 2,000-value vocabulary, hidden 64-32) and a big graph
// with ~50 MB of float initializers. Usage: dotnet run -c Release --project bench/Ctm.Bench.OnnxModel -- [repeats]
var repeats = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200;
Console.WriteLine($"command: dotnet run -c Release --project bench/Ctm.Bench.OnnxModel -- {repeats}");
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, load average {LoadAverage()}");

var exported = ExportedModel();
var big = BigModel(out var buildBig);
Console.WriteLine($"exported model: {exported.Length / 1024.0:F1} KiB; big model: {big.Length / 1e6:F1} MB");
Console.WriteLine($"{"case",-36} {"median",12} {"best",12}");
Report("OnnxModelReader.Read exported", repeats, () => OnnxModelReader.Read(exported).Inputs.Count);
Report("OnnxGraphReader.ReadNodes exported", repeats, () => OnnxGraphReader.ReadNodes(exported).Count);
Report("OnnxModelReader.Read big", Math.Max(5, repeats / 10), () => OnnxModelReader.Read(big).Initializers.Count);
Report("OnnxGraphReader.ReadNodes big", Math.Max(5, repeats / 10), () => OnnxGraphReader.ReadNodes(big).Count);
Report("OnnxGraphBuilder.Build big", 5, () => buildBig().Length);

static void Report(string name, int repeats, Func<int> run)
{
    // Warm up for half a second (the JIT promotes hot methods to its optimized tier after a 100 ms delay, so a
    // count of calls is not enough for microsecond cases), and start each case from a collected heap so that no case
    // pays for the garbage of the setup or of the case before it.
    var warmup = Stopwatch.StartNew();
    for (var w = 0; w < 3 || warmup.ElapsedMilliseconds < 500; w++)
    {
        run();
    }

    GC.Collect();
    GC.WaitForPendingFinalizers();

    var times = new double[repeats];
    var sink = 0;
    for (var i = 0; i < repeats; i++)
    {
        var start = Stopwatch.GetTimestamp();
        sink += run();
        times[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
    }

    Array.Sort(times);
    Console.WriteLine($"{name,-36} {Format(times[repeats / 2]),12} {Format(times[0]),12}   (n={repeats}, check {sink / repeats})");
}

static string Format(double us) => us >= 1000 ? $"{us / 1000:F2} ms" : $"{us:F1} µs";

static byte[] ExportedModel()
{
    const int rows = 4000;
    var random = new Random(11);
    var builder = TabularDataset.CreateBuilder();
    var score = new double[rows];
    for (var f = 0; f < 12; f++)
    {
        var values = new double[rows];
        for (var r = 0; r < rows; r++)
        {
            values[r] = random.NextDouble() < 0.05 ? double.NaN : random.NextDouble() * 10;
            score[r] += double.IsNaN(values[r]) ? 0 : (f % 3 - 1) * values[r];
        }

        builder.AddNumeric($"n{f}", values);
    }

    foreach (var (name, cardinality) in new[] { ("city", 2000), ("device", 12), ("channel", 5) })
    {
        var values = new string?[rows];
        for (var r = 0; r < rows; r++)
        {
            var k = random.Next(cardinality);
            values[r] = $"{name}-{k}";
            score[r] += k % 2;
        }

        builder.AddCategorical(name, values);
    }

    builder.WithLabel("label", score.Select(s => s > 5 ? "yes" : "no").ToArray());
    var options = new TrainingOptions { Task = ModelTask.BinaryClassification, HiddenLayers = [64, 32], Epochs = 2, Seed = 3 };
    return new ManagedTrainingEngine().Train(builder.Build(), options).ToOnnx();
}

static byte[] BigModel(out Func<byte[]> build)
{
    // Three 2048×2048 float layers (16.8 MB each) and a 20,000-entry string vocabulary.
    const int width = 2048;
    var g = new OnnxGraphBuilder("big");
    g.AddInput("x", TensorElementType.Float, [null, width], ["N", null]);
    var random = new Random(5);
    var current = "x";
    for (var l = 0; l < 3; l++)
    {
        var w = new float[width * width];
        for (var i = 0; i < w.Length; i++)
        {
            w[i] = (float)(random.NextDouble() - 0.5);
        }

        g.AddInitializer($"w{l}", w, [width, width]);
        g.AddNode("MatMul", [current, $"w{l}"], [$"h{l}"]);
        g.AddNode("Relu", [$"h{l}"], [$"r{l}"]);
        current = $"r{l}";
    }

    g.AddOutput(current, TensorElementType.Float, [null, width]);
    g.AddInput("word", TensorElementType.String, [null]);
    var vocabulary = Enumerable.Range(0, 20_000).Select(i => $"word-{i}").ToArray();
    g.AddNode("LabelEncoder", ["word"], ["word_id"], domain: "ai.onnx.ml", attributes:
    [
        OnnxAttribute.Strings("keys_strings", vocabulary),
        OnnxAttribute.Ints("values_int64s", [.. Enumerable.Range(0, vocabulary.Length).Select(i => (long)i)]),
        OnnxAttribute.Int("default_int64", -1),
    ]);
    g.AddOutput("word_id", TensorElementType.Int64, [null]);
    var info = new OnnxModelInfo { Opsets = { [""] = 17, ["ai.onnx.ml"] = 3 } };
    build = () => g.Build(info);
    return build();
}

static string LoadAverage() =>
    File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
