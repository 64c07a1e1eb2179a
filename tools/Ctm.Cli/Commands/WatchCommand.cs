using System.CommandLine;
using System.Text.Json;
using Spectre.Console;

namespace Ctm.Cli.Commands;

/// <summary>
/// <c>watch D</c>: the dataset's life as it happens — decisions, training runs starting and finishing, promotions and
/// rollbacks — by polling the services' APIs once a second, one line per event (one JSON object per line with --json).
/// </summary>
public static class WatchCommand
{
    public static Command Create()
    {
        var dataset = Shared.DatasetArgument();
        var until = new Option<int?>("--until-version") { Description = "Stop (exit 0) once this version or a newer one serves" };
        var timeout = new Option<int?>("--timeout") { Description = "Stop after this many seconds (exit 6 when --until-version was not reached)" };
        var history = new Option<bool>("--history") { Description = "Also print what happened before the watch started" };
        var command = new Command("watch", "Follow a dataset live: validation decisions, training, promotions, rollbacks (Ctrl+C stops)") { dataset, until, timeout, history };
        command.SetAction((parse, ct) => Shared.RunAsync(parse, ct, (api, output) =>
            RunAsync(api, output, parse.GetRequiredValue(dataset), parse.GetValue(until), parse.GetValue(timeout), parse.GetValue(history), ct)));
        return command;
    }

    private static async Task<int> RunAsync(CtmApi api, Output output, string dataset, int? until, int? timeout, bool history, CancellationToken ct)
    {
        var name = Uri.EscapeDataString(dataset);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var deadline = timeout is { } t ? DateTimeOffset.UtcNow.AddSeconds(t) : DateTimeOffset.MaxValue;
        var first = true;
        if (!output.Json)
        {
            output.Error.MarkupLineInterpolated($"[grey]watching {dataset}; Ctrl+C stops[/]");
        }

        while (!ct.IsCancellationRequested)
        {
            var events = await PollAsync(api, name, ct);
            foreach (var e in events.Where(e => seen.Add(e.Key)))
            {
                if (!first || history)
                {
                    Print(output, dataset, e);
                }
            }

            first = false;
            var serving = events.Where(e => e.Kind == "serving").Select(e => e.Version).Max();
            if (until is { } wanted && serving >= wanted)
            {
                return ExitCodes.Ok;
            }

            if (DateTimeOffset.UtcNow >= deadline)
            {
                return until is null ? ExitCodes.Ok : ExitCodes.Incomplete;
            }

            await Task.Delay(TimeSpan.FromSeconds(1), ct);
        }

        return ExitCodes.Ok;
    }

    private sealed record Event(string Key, string Kind, string Text, int? Version, object Data);

    private static async Task<List<Event>> PollAsync(CtmApi api, string name, CancellationToken ct)
    {
        var batches = api.GetAsync("Validator", $"v1/datasets/{name}/batches", ct);
        var jobs = api.GetAsync("Trainer", $"v1/datasets/{name}/jobs", ct);
        var runs = api.GetAsync("Trainer", $"v1/datasets/{name}/runs", ct);
        var promotions = api.GetAsync("Registry", $"v1/datasets/{name}/serving/history", ct);
        var serving = ModelCommands.TryServingAsync(api, name, ct);
        await Task.WhenAll(batches, jobs, runs, promotions, serving);

        var events = new List<Event>();
        foreach (var b in (await batches).Items())
        {
            var text = $"batch {b.Str("batchId")} {b.Str("status")} ({b.Str("rowCount")} rows){(b.Str("status") == "quarantined" ? ": " + BatchCommands.Reasons(b) : "")}";
            events.Add(new($"batch:{b.Str("batchId")}:{b.Str("status")}", "decision", text, null, b));
        }

        foreach (var j in (await jobs).Items().Where(j => j.Str("status") == "running"))
        {
            events.Add(new($"job:{j.Str("id")}:running", "training", $"training started ({j.Str("reason")})", null, j));
        }

        foreach (var r in (await runs).Items())
        {
            var metrics = r.TryGetProperty("metrics", out var m) && m.ValueKind == JsonValueKind.Object
                ? string.Join(" ", m.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.Number).Take(3).Select(p => $"{p.Name}={p.Value.GetDouble():0.###}"))
                : "";
            events.Add(new($"run:{r.Str("id")}", "trained", $"run {r.Str("id")} trained on {r.Items("batchIds").Count()} batches in {Seconds(r):0.0} s {metrics}", null, r));
        }

        foreach (var p in (await promotions).Items())
        {
            var kind = p.Str("reason") == "rollback" ? "rollback" : "promotion";
            events.Add(new($"promotion:{p.Str("generation")}", kind, $"v{p.Str("version")} promoted ({p.Str("reason")}, by {p.Str("actor")})", p.Int("version"), p));
        }

        if (await serving is { } s && s.Int("version") is { } v)
        {
            var replicas = s.Items("replicas").Where(r => r.Int("version") == v).Select(r => r.Str("replica")).ToList();
            events.Add(new($"serving:{s.Str("generation")}:{string.Join(",", replicas)}", "serving", $"v{v} serves on {replicas.Count} replica(s): {string.Join(", ", replicas)}", v, s));
        }

        return events;
    }

    private static double Seconds(JsonElement run) =>
        DateTimeOffset.TryParse(run.Str("startedAt"), System.Globalization.CultureInfo.InvariantCulture, out var a) && DateTimeOffset.TryParse(run.Str("finishedAt"), System.Globalization.CultureInfo.InvariantCulture, out var b)
            ? (b - a).TotalSeconds
            : 0;

    private static void Print(Output output, string dataset, Event e)
    {
        if (output.Json)
        {
            Output.WriteLine(new { at = DateTimeOffset.UtcNow, dataset, kind = e.Kind, text = e.Text, version = e.Version, data = e.Data });
            return;
        }

        var color = e.Kind switch { "decision" when e.Text.Contains("quarantined", StringComparison.Ordinal) => "red", "rollback" => "yellow", "promotion" or "serving" => "green", _ => "white" };
        output.Out.MarkupLineInterpolated($"[grey]{DateTimeOffset.Now:HH:mm:ss}[/] [{color}]{e.Kind,-9}[/] {e.Text}");
    }
}
