using System.CommandLine;
using System.Text.Json;
using Spectre.Console;

namespace Ctm.Cli.Commands;

/// <summary>Versions, lineage and rollback: the Registry's view of a dataset's models.</summary>
public static class ModelCommands
{
    public static Command Versions()
    {
        var dataset = Shared.DatasetArgument();
        var command = new Command("versions", "The dataset's model versions: training-time metrics beside live quality (test-then-train, and served predictions joined to labels per role), parent, tainted, which one serves") { dataset };
        command.SetAction((parse, ct) => Shared.RunAsync(parse, ct, async (api, output) =>
        {
            var name = Uri.EscapeDataString(parse.GetRequiredValue(dataset));
            var versions = await api.GetAsync("Registry", $"v1/datasets/{name}/versions", ct);
            var serving = await TryServingAsync(api, name, ct);
            var servingVersion = serving?.Int("version");
            output.Write(new { versions, servingVersion }, c =>
            {
                var table = new Table().AddColumns("version", "serving", "parent", "origin", "engine", "metrics", "live (test-then-train)", "live (served)", "batches", "tainted", "created");
                string? problem = null;
                foreach (var v in versions.Items())
                {
                    var metrics = v.TryGetProperty("metrics", out var m) && m.ValueKind == JsonValueKind.Object
                        ? string.Join(" ", m.EnumerateObject().Take(3).Select(p => $"{p.Name}={p.Value.GetDouble():0.###}"))
                        : "";
                    table.AddRow(
                        new Text("v" + v.Str("version")),
                        new Markup(v.Int("version") == servingVersion ? "[green]serving[/]" : ""),
                        new Text(v.Str("parentVersion") is { Length: > 0 } p ? "v" + p : "-"),
                        new Text(v.Str("origin")), new Text(v.Str("engine")), new Text(metrics),
                        new Text(Live(v, served: false)), new Text(Live(v, served: true)),
                        new Text(v.Items("batchIds").Count().ToString(System.Globalization.CultureInfo.InvariantCulture)),
                        new Markup(v.Bool("tainted") ? "[red]tainted[/]" : ""),
                        new Text(v.Str("createdAt")));
                    problem ??= v.Str("liveQualityProblem") is { Length: > 0 } why ? why : null;
                }

                c.Write(table);
                if (problem is not null)
                {
                    c.MarkupLineInterpolated($"[yellow]live quality unknown:[/] {problem}");
                }
            });
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>A version's live quality from one source: the judged metric, accuracy where there is one, and the rows behind it; per role for served.</summary>
    private static string Live(JsonElement version, bool served)
    {
        if (!version.TryGetProperty("liveQuality", out var live) || live.ValueKind != JsonValueKind.Array)
        {
            return "?";
        }

        var parts = live.EnumerateArray().Where(l => (l.Str("source") == "served") == served).Select(l =>
        {
            var text = System.FormattableString.Invariant($"{l.Str("metric")}={Number(l, "value")}");
            if (l.TryGetProperty("accuracy", out var a) && a.ValueKind == JsonValueKind.Number)
            {
                text += System.FormattableString.Invariant($" acc={a.GetDouble():0.###}");
            }

            text += $" n={l.Str("rows")}";
            return served ? $"{l.Str("role")} {text}" : text;
        }).ToList();
        return parts.Count == 0 ? "-" : string.Join("; ", parts);
    }

    private static string Number(JsonElement e, string name) =>
        e.TryGetProperty(name, out var x) && x.ValueKind == JsonValueKind.Number ? x.GetDouble().ToString("0.####", System.Globalization.CultureInfo.InvariantCulture) : "-";

    public static Command Lineage()
    {
        var dataset = Shared.DatasetArgument();
        var version = new Argument<int>("version") { Description = "The model version" };
        var command = new Command("lineage", "What made a version: its batches, its parent chain, tainted versions marked") { dataset, version };
        command.SetAction((parse, ct) => Shared.RunAsync(parse, ct, async (api, output) =>
        {
            var name = parse.GetRequiredValue(dataset);
            var v = parse.GetRequiredValue(version);
            var lineage = await api.GetAsync("Registry", $"v1/datasets/{Uri.EscapeDataString(name)}/versions/{v}/lineage", ct,
                notFound: $"Dataset '{name}' has no version {v}.");
            output.Write(lineage, c => c.Write(Tree(lineage)));
            return ExitCodes.Ok;
        }));
        return command;
    }

    public static Command Rollback()
    {
        var dataset = Shared.DatasetArgument();
        var batch = new Option<Guid[]>("--batch") { Description = "A corrupt batch: taints every version it influenced and serves the newest untainted one", AllowMultipleArgumentsPerToken = true };
        var to = new Option<int?>("--to") { Description = "Serve this version instead" };
        var reason = Shared.ReasonOption();
        var retrain = new Option<bool>("--retrain") { Description = "Also retrain from the version served on the clean batches since" };
        var force = new Option<bool>("--force") { Description = "With --to: serve the version even if tainted (audited)" };
        var wait = new Option<int?>("--wait") { Description = "Seconds to wait for the replicas to confirm (default: the Registry's setting)" };
        var command = new Command("rollback", "Roll back on a corrupt batch (--batch) or to a version (--to); waits for every replica to confirm and says which did")
        {
            dataset, batch, to, reason, retrain, force, wait,
        };
        command.Validators.Add(r =>
        {
            var hasBatch = r.GetValue(batch) is { Length: > 0 };
            var hasTo = r.GetValue(to) is not null;
            if (hasBatch == hasTo)
            {
                r.AddError("give either --batch BATCH (one or more) or --to VERSION");
            }
        });
        command.SetAction((parse, ct) => Shared.RunAsync(parse, ct, async (api, output) =>
        {
            var name = parse.GetRequiredValue(dataset);
            var batches = parse.GetValue(batch) ?? [];
            var body = new
            {
                requestId = Guid.NewGuid(),
                targetVersion = parse.GetValue(to),
                corruptBatchIds = batches.Length > 0 ? batches : null,
                reason = parse.GetRequiredValue(reason),
                @operator = api.Settings.Operator,
                force = parse.GetValue(force),
                retrain = parse.GetValue(retrain),
                waitSeconds = parse.GetValue(wait),
            };
            var outcome = await api.PostAsync("Registry", $"v1/datasets/{Uri.EscapeDataString(name)}/rollbacks", body, ct);
            var confirmations = outcome.Items("confirmations").ToList();
            var unconfirmed = confirmations.Where(c => c.Str("state") != "loaded").ToList();
            output.Write(outcome, c =>
            {
                c.MarkupLineInterpolated($"[bold]{name}[/]: v{outcome.Str("previousVersion")} → [green]v{outcome.Str("servingVersion")}[/]  {outcome.Str("message")}");
                if (outcome.Items("taintedVersions").Any())
                {
                    c.MarkupLineInterpolated($"tainted: [red]{string.Join(", ", outcome.Items("taintedVersions").Select(t => "v" + t.GetRawText()))}[/]");
                }

                var table = new Table().AddColumns("replica", "answer", "serves", "reason");
                foreach (var r in confirmations)
                {
                    var color = r.Str("state") == "loaded" ? "green" : "red";
                    table.AddRow(new Text(r.Str("replica")), new Markup($"[{color}]{Markup.Escape(r.Str("state"))}[/]"), new Text(r.Str("servingVersion")), new Text(r.Str("reason")));
                }

                c.Write(table);
                c.WriteLine(outcome.Str("confirmation"));
            });
            return confirmations.Count > 0 && unconfirmed.Count == 0 ? ExitCodes.Ok : ExitCodes.Incomplete;
        }, TimeSpan.FromMinutes(5)));
        return command;
    }

    internal static async Task<JsonElement?> TryServingAsync(CtmApi api, string escapedDataset, CancellationToken ct)
    {
        try
        {
            return await api.GetAsync("Registry", $"v1/datasets/{escapedDataset}/serving", ct);
        }
        catch (CliException e) when (e.ExitCode == ExitCodes.NotFound)
        {
            return null;
        }
    }

    private static Tree Tree(JsonElement lineage)
    {
        string Flag(bool tainted) => tainted ? " [red](tainted)[/]" : "";
        var tree = new Tree(new Markup($"[bold]{Markup.Escape(lineage.Str("dataset"))} v{lineage.Str("version")}[/] {Markup.Escape(lineage.Str("origin"))}{Flag(lineage.Bool("tainted"))}"
            + (lineage.Str("taintReason") is { Length: > 0 } why ? $" [red]{Markup.Escape(why)}[/]" : "")));
        var batches = tree.AddNode(new Markup("[grey]batches[/]"));
        foreach (var b in lineage.Items("batches"))
        {
            var bad = b.Str("status") is "corrupt" or "quarantined" or "discarded";
            batches.AddNode(new Markup($"{Markup.Escape(b.Str("batchId"))} {(bad ? "[red]" : "[green]")}{Markup.Escape(b.Str("status"))}[/] {b.Str("rowCount")} rows"));
        }

        var parents = tree.AddNode(new Markup("[grey]parent chain[/]"));
        var node = parents;
        foreach (var p in lineage.Items("parentChain"))
        {
            node = node.AddNode(new Markup($"v{p.Str("version")} {Markup.Escape(p.Str("origin"))}{Flag(p.Bool("tainted"))}"));
        }

        if (lineage.Items("children").Any())
        {
            tree.AddNode(new Markup($"[grey]children[/] {string.Join(", ", lineage.Items("children").Select(c => "v" + c.GetRawText()))}"));
        }

        return tree;
    }
}
