using System.Diagnostics;
using System.Globalization;
using System.Text;
using Ctm.Data.Parsing;
using Ctm.Data.Schema;
using Ctm.Data.Statistics;

// Statistics over a generated CSV (20 numeric + 5 categorical columns) against parsing alone with the same
// reader, the ceiling. Usage: dotnet run -c Release --project bench/Ctm.Bench.Statistics -- [MB ...]
var sizes = args.Length > 0 ? args.Select(a => int.Parse(a, CultureInfo.InvariantCulture)).ToArray() : [100, 25];
var folder = Path.Combine(FindRoot(), ".ctm", "bench");
Directory.CreateDirectory(folder);
Console.WriteLine($"command: dotnet run -c Release --project bench/Ctm.Bench.Statistics -- {string.Join(' ', sizes)}");
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {RuntimeDescription()}, load average {LoadAverage()}");

foreach (var mb in sizes)
{
    var path = Path.Combine(folder, $"stats-{mb}mb.csv");
    if (!File.Exists(path) || new FileInfo(path).Length < mb * 1_000_000L)
    {
        Generate(path, mb * 1_000_000L);
    }

    var bytes = new FileInfo(path).Length;
    var schema = InferSchema(path);

    // Warm up every path (JIT tiers, page cache), then interleave the timed runs so that no path profits from
    // running later (warmer code, a quieter machine); the best of seven per path is reported.
    Func<Run>[] paths = [() => Parse(path), () => Statistics(path, schema, pipelined: true), () => Statistics(path, schema, pipelined: false), () => Statistics(path, null, pipelined: true)];
    for (var w = 0; w < 3; w++)
    {
        foreach (var p in paths)
        {
            p();
        }
    }

    var runs = paths.Select(_ => new List<Run>()).ToArray();
    for (var round = 0; round < 7; round++)
    {
        for (var j = 0; j < paths.Length; j++)
        {
            runs[j].Add(paths[j]());
        }
    }

    var best = runs.Select(r => r.MinBy(x => x.Seconds)!).ToArray();
    var (parse, stats, oneThread, infer) = (best[0], best[1], best[2], best[3]);
    Console.WriteLine();
    Console.WriteLine($"{bytes / 1e6:0} MB, {parse.Rows:N0} rows");
    Report("parse only (CsvReader, every field touched)", bytes, parse);
    Report("statistics with schema, two threads", bytes, stats);
    Report("statistics with schema, one thread", bytes, oneThread);
    Report("statistics without schema (types inferred)", bytes, infer);
    Console.WriteLine($"  statistics / parse time: {stats.Seconds / parse.Seconds:0.00}x (with schema, two threads), {oneThread.Seconds / parse.Seconds:0.00}x (one thread), {infer.Seconds / parse.Seconds:0.00}x (inferring); peak process working set {Environment.WorkingSet / 1e6:0} MB");
    Console.WriteLine($"  load average at the end: {LoadAverage()}");
}

static Run Parse(string path) => Measure(() =>
{
    using var reader = new CsvReader(File.OpenRead(path), path);
    long rows = 0, chars = 0;
    var n = reader.Header.Count;
    while (reader.Read())
    {
        for (var i = 0; i < n; i++)
        {
            chars += reader.GetField(i).Length;
        }

        rows++;
    }

    GC.KeepAlive(chars);
    return rows;
});

static Run Statistics(string path, DataSchema? schema, bool pipelined) => Measure(() =>
{
    using var reader = new CsvReader(File.OpenRead(path), path);
    return BatchStatistics.Compute(reader, schema, "c4", pipelined).RowCount;
});

static DataSchema InferSchema(string path)
{
    using var reader = new CsvReader(File.OpenRead(path), path);
    var builder = new StatisticsBuilder(reader.Header, labelColumn: "c4");
    for (var r = 0; r < 10_000 && reader.Read(); r++)
    {
        for (var i = 0; i < reader.FieldCount; i++)
        {
            builder.Add(i, reader.GetField(i));
        }

        builder.EndRow();
    }

    return DataSchema.Infer(builder.Build());
}

static Run Measure(Func<long> body)
{
    GC.Collect();
    GC.WaitForPendingFinalizers();
    GC.Collect();
    var before = GC.GetTotalAllocatedBytes(precise: true);
    var baseline = GC.GetTotalMemory(forceFullCollection: true);
    using var sampler = new PeakSampler();
    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
    var watch = Stopwatch.StartNew();
    var rows = body();
    watch.Stop();
    var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
    var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
    return new Run(rows, watch.Elapsed.TotalSeconds, cpuSeconds, allocated, Math.Max(0, sampler.Peak - baseline));
}

static void Report(string name, long bytes, Run run) =>
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"  {name,-46} {run.Seconds,7:0.000} s (cpu {run.CpuSeconds,6:0.000} s)  {bytes / 1e6 / run.Seconds,7:0.0} MB/s  peak managed heap +{run.PeakHeap / 1e6,6:0.0} MB  allocated {run.Allocated / 1e6,8:0.0} MB"));

static void Generate(string path, long targetBytes)
{
    Console.WriteLine($"generating {path} ({targetBytes / 1e6:0} MB)...");
    var random = new Random(42);
    string[][] categories =
    [
        ["A", "B", "C"],
        ["red", "green", "blue", "yellow", "black", "white"],
        [.. Enumerable.Range(0, 12).Select(i => $"city{i:00}")],
        ["web", "mobile"],
        ["yes", "no"],
    ];
    using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20);
    writer.Write(string.Join(',', Enumerable.Range(0, 20).Select(i => $"x{i:00}")));
    writer.Write(',');
    writer.WriteLine(string.Join(',', Enumerable.Range(0, 5).Select(i => $"c{i}")));
    var line = new StringBuilder();
    while (writer.BaseStream.Position < targetBytes)
    {
        line.Clear();
        for (var i = 0; i < 20; i++)
        {
            var v = (i % 4) switch
            {
                0 => Math.Round(Normal(random), 4),
                1 => Math.Round(50 + (10 * Normal(random)), 2),
                2 => Math.Round(Math.Exp(1 + (0.5 * Normal(random))), 3),
                _ => random.Next(0, 1000),
            };
            if (random.NextDouble() >= 0.01)
            {
                line.Append(v.ToString(CultureInfo.InvariantCulture));
            }

            line.Append(',');
        }

        for (var c = 0; c < 5; c++)
        {
            line.Append(categories[c][random.Next(categories[c].Length)]);
            line.Append(c < 4 ? ',' : '\n');
        }

        writer.Write(line);
    }
}

static double Normal(Random random) =>
    Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

static string FindRoot()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Directory.Build.props")))
    {
        dir = dir.Parent;
    }

    return dir?.Parent is { } parent && File.Exists(Path.Combine(parent.FullName, "Directory.Build.props")) ? parent.FullName : dir?.FullName ?? ".";
}

static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

static string RuntimeDescription() => System.Runtime.InteropServices.RuntimeInformation.OSDescription;

internal sealed record Run(long Rows, double Seconds, double CpuSeconds, long Allocated, long PeakHeap);

// Samples the managed heap while a run is in progress, so the figure is the peak, not the end state.
internal sealed class PeakSampler : IDisposable
{
    private readonly Timer _timer;
    private long _peak;

    public PeakSampler()
    {
        _timer = new Timer(_ => Sample(), null, 0, 5);
    }

    public long Peak
    {
        get
        {
            Sample();
            return Interlocked.Read(ref _peak);
        }
    }

    public void Dispose() => _timer.Dispose();

    private void Sample()
    {
        var now = GC.GetTotalMemory(false);
        long current;
        while (now > (current = Interlocked.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, now, current) != current)
        {
        }
    }
}
