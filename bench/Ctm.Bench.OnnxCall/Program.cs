using System.Diagnostics;
using System.Globalization;
using Ctm.Ml;
using Ctm.Ml.Engine;
using Ctm.Onnx;

// One ONNX Runtime call on a Ctm-exported model with 32 numeric features (hidden layer 32, binary classifier), in both
// input layouts, through the two ways Ctm.Onnx runs a model: the in-place float path the Predictor's micro-batcher uses
// (caller buffers, cached native values) and the general OrtTensor path. One intra-op thread, as the Predictor's default.
// Usage: dotnet run -c Release --project bench/Ctm.Bench.OnnxCall -- [calls per case]
var calls = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20_000;
Console.WriteLine($"command: dotnet run -c Release --project bench/Ctm.Bench.OnnxCall -- {calls}");
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, load average {LoadAverage()}");
Console.WriteLine($"{"case",-52} {"median",10} {"p10",10} {"p90",10}");

var model = Train();
foreach (var layout in new[] { OnnxInputLayout.Packed, OnnxInputLayout.PerFeature })
{
    using var session = OnnxSession.Create(model.ToOnnx(new OnnxExportOptions { Layout = layout }), new OnnxSessionOptions { IntraOpThreads = 1 });
    foreach (var rows in new[] { 1, 256 })
    {
        var random = new Random(7);
        var inputs = session.Inputs.Select(i => new FloatTensorInput(i.Name, Random(random, rows * (int)i.Shape[1]), [rows, i.Shape[1]])).ToArray();

        var outputs = new[] { new FloatTensorOutput("probabilities", new float[rows * 2], [rows, 2]) };
        Measure($"{layout}, {inputs.Length} input(s), {rows} row(s), float path", calls, () =>
        {
            session.Run(inputs, outputs);
            return outputs[0].Buffer.Span[0];
        });

        var feeds = session.Inputs.ToDictionary(i => i.Name, i => OrtTensor.FromFloat(Random(random, rows * (int)i.Shape[1]), rows, i.Shape[1]));
        Measure($"{layout}, {inputs.Length} input(s), {rows} row(s), OrtTensor path", calls / 4, () => session.Run(feeds, ["probabilities"])[0].AsFloat()[0]);
    }
}

static float[] Random(Random random, int count) => [.. Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 4) - 2))];

static void Measure(string name, int calls, Func<float> run)
{
    // Half a second of warm-up: the JIT's optimized tier arrives after a delay, not after a count of calls.
    var warmup = Stopwatch.StartNew();
    while (warmup.ElapsedMilliseconds < 500)
    {
        run();
    }

    var times = new double[calls];
    var sink = 0f;
    for (var i = 0; i < calls; i++)
    {
        var start = Stopwatch.GetTimestamp();
        sink += run();
        times[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
    }

    Array.Sort(times);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-52} {times[calls / 2],7:0.0} µs {times[calls / 10],7:0.0} µs {times[calls * 9 / 10],7:0.0} µs   (n={calls}, check {sink / calls:0.000})"));
}

static TrainedModel Train()
{
    return new ManagedTrainingEngine().Train(Ctm.Bench.Shared.NumericData.ThirtyTwoFeatures(2000), new TrainingOptions { Task = ModelTask.BinaryClassification, HiddenLayers = [32], Epochs = 3 });
}

static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";
