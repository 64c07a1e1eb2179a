using System.Globalization;
using Ctm.Bench.Training;
using Ctm.Ml;
using Ctm.Ml.Engine;

var rows = ArgInt("--rows", 200_000);
var testRows = ArgInt("--test-rows", 20_000);
var epochs = ArgInt("--epochs", 3);
var threads = ArgInt("--threads", 0);
var skipTorch = args.Contains("--skip-torch");
var dir = Path.Combine(Path.GetTempPath(), "ctm-bench-training");
Directory.CreateDirectory(dir);

var trainRaw = SyntheticData.Generate(rows, 42);
var testRaw = SyntheticData.Generate(testRows, 4242);
SyntheticData.Write(Path.Combine(dir, "train.f32"), trainRaw);
SyntheticData.Write(Path.Combine(dir, "test.f32"), testRaw);
var train = SyntheticData.ToDataset(trainRaw);
var test = SyntheticData.ToDataset(testRaw);
Console.WriteLine($"data: {rows} train rows, {testRows} test rows, {SyntheticData.Features} features, positives {trainRaw.Where((v, i) => i % 33 == 32).Average():P1}");

var options = new TrainingOptions
{
    Task = ModelTask.BinaryClassification, HiddenLayers = [64, 64], Epochs = epochs, BatchSize = 256,
    LearningRate = 1e-3, Seed = 42, MaxThreads = threads,
};
var engine = new ManagedTrainingEngine();
var estimate = engine.Estimate(train, options, warmup: TimeSpan.FromMilliseconds(300));
Console.WriteLine($"estimate: {estimate.SamplesPerSecond:F0} samples/s, cpu {estimate.CpuUtilization:P0}, peak {estimate.PeakMemoryBytes / 1048576} MiB, projected {estimate.ProjectedDuration.TotalSeconds:F2} s");

var model = engine.Train(train, options);
var metrics = Evaluator.Evaluate(model, test);
Console.WriteLine($"ctm: {model.SamplesPerSecond:F0} samples/s (training loop), {rows * (double)epochs / model.Duration.TotalSeconds:F0} samples/s incl. preprocessing, accuracy {metrics.Overall.Accuracy:P2}, loss curve [{string.Join(", ", model.LossCurve.Select(l => l.ToString("F4", CultureInfo.InvariantCulture)))}]");

static int ArgInt(string name, int fallback)
{
    var args = Environment.GetCommandLineArgs();
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}
