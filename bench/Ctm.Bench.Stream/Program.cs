using System.Globalization;
using Ctm.Bench.Stream;
using Ctm.Testing;
using Ctm.Testing.Streams;

// Test-then-train over realistic streams through the five services as real processes, with their default settings,
// against a static model and a retrain-everything oracle computed in the same run (see README.md beside this file).
// Usage: dotnet run -c Release --project bench/Ctm.Bench.Stream -- [--stream events|weather|both|concept|all] [--batches N] [--seed S] [--oracle logistic|mlp32|both] [--check]
var failures = MetricsCheck.Failures();
if (failures.Count > 0)
{
    Console.Error.WriteLine("The metric code fails its own checks; no numbers are printed:\n  " + string.Join("\n  ", failures));
    return 1;
}

if (args.Contains("--check"))
{
    Console.WriteLine("metric checks: all passed");
    return 0;
}

var which = OptionText(args, "--stream", "both");
var batches = OptionText(args, "--batches", null);
var seed = OptionText(args, "--seed", null);
var oracle = OptionText(args, "--oracle", "both");
string[] names = which switch
{
    "both" => ["events", "weather"],
    "all" => ["events", "weather", "concept"],
    "events" or "weather" or "concept" => [which],
    _ => throw new ArgumentException($"--stream must be events, weather, both, concept or all (was '{which}')"),
};
Recipe[] oracleRecipes = oracle == "both" ? Recipe.Plain : Recipe.Plain.Where(r => r.Name == oracle).ToArray() is { Length: 1 } one
    ? one
    : throw new ArgumentException($"--oracle must be logistic, mlp32 or both (was '{oracle}')");
var command = "dotnet run -c Release --project bench/Ctm.Bench.Stream -- --stream " + which
    + (batches is null ? "" : $" --batches {batches}") + (seed is null ? "" : $" --seed {seed}") + (oracle == "both" ? "" : $" --oracle {oracle}");
Console.WriteLine($"# {command}");
Console.WriteLine($"# {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; services with default settings");

await TestEnvironment.RequireInfrastructureAsync();
var output = Path.Combine(TestEnvironment.RepositoryRoot, "bench", "Ctm.Bench.Stream", "out");
Directory.CreateDirectory(output);
var system = new DefaultSettingsSystem();
await system.InitializeAsync();
var summaries = new List<string>();
try
{
    foreach (var name in names)
    {
        var options = name switch { "events" => StreamOptions.EventsBenchmark, "weather" => StreamOptions.WeatherBenchmark, _ => StreamOptions.ConceptBenchmark };
        if (batches is not null)
        {
            // A shorter stream keeps the corruptions that start inside it, cut at its end.
            var n = int.Parse(batches, CultureInfo.InvariantCulture);
            options = options with
            {
                Batches = n,
                Corruptions = [.. options.Corruptions.Where(c => c.FirstBatch < n).Select(c => c with { Batches = Math.Min(c.Batches, n - c.FirstBatch) })],
                ConceptChangeBatch = options.ConceptChangeBatch < n ? options.ConceptChangeBatch : null,
            };
        }

        if (seed is not null)
        {
            options = options with { Seed = int.Parse(seed, CultureInfo.InvariantCulture) };
        }

        var result = await StreamBenchmark.RunAsync(system, name, options, oracleRecipes);
        var svg = $"{name}.svg";
        await File.WriteAllTextAsync(Path.Combine(output, svg), Report.Chart(result));
        await File.WriteAllTextAsync(Path.Combine(output, $"{name}.md"), Report.Markdown(result, command, svg));
        await File.WriteAllTextAsync(Path.Combine(output, $"{name}-quality.json"), result.QualitySeries);
        var text = Report.Text(result, command);
        Console.WriteLine(text);
        summaries.Add(text);
    }
}
finally
{
    await system.DisposeAsync();
}

Console.WriteLine(string.Join("\n", summaries));
Console.WriteLine($"# written: {output}/{{{string.Join(",", names)}}}.{{md,svg}}");
return 0;

static string? OptionText(string[] args, string name, string? fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}

namespace Ctm.Bench.Stream
{
    /// <summary>The five services with their own defaults: only what the harness needs to run them quickly, nothing that changes what is measured.</summary>
    internal sealed class DefaultSettingsSystem : CtmSystem
    {
        // CtmSystem's test defaults shorten training (Training__Epochs); the benchmark measures the shipped defaults.
        protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
        {
            ["Ingest__RowEvents__MaxDelaySeconds"] = "1",
        };
    }
}
