using System.CommandLine;
using System.Text.Json;
using Spectre.Console;

namespace Ctm.Cli.Commands;

/// <summary>The quarantine: list batches with their decisions and reasons, release or discard one.</summary>
public static class BatchCommands
{
    public static Command List()
    {
        var dataset = Shared.DatasetArgument();
        var status = new Option<string?>("--status") { Description = "Only batches in this state: accepted, quarantined, released, discarded, corrupt" };
        var command = new Command("batches", "The dataset's batches with the Validator's decision and, for quarantined ones, the reasons") { dataset, status };
        command.SetAction((parse, ct) => Shared.RunAsync(parse, ct, async (api, output) =>
        {
            var name = parse.GetRequiredValue(dataset);
            var wanted = parse.GetValue(status);
            var all = await api.GetAsync("Validator", $"v1/datasets/{Uri.EscapeDataString(name)}/batches", ct);
            var batches = all.Items().Where(b => wanted is null || string.Equals(b.Str("status"), wanted, StringComparison.OrdinalIgnoreCase)).ToList();
            output.Write(batches, c =>
            {
                if (batches.Count == 0)
                {
                    c.MarkupLineInterpolated($"no {(wanted ?? "")} batches of [bold]{name}[/]");
                    return;
                }

                var table = new Table().AddColumns("batch", "status", "rows", "decided", "reasons");
                foreach (var b in batches)
                {
                    var reasons = string.Join("\n", b.Items("reasons").Select(r => $"{r.Str("kind")} {r.Str("feature")}: {r.Str("description")}".Trim()));
                    var color = b.Str("status") switch { "quarantined" => "red", "accepted" or "released" => "green", _ => "yellow" };
                    table.AddRow(new Text(b.Str("batchId")), new Markup($"[{color}]{Markup.Escape(b.Str("status"))}[/]"), new Text(b.Str("rowCount")), new Text(b.Str("decidedAt")), new Text(reasons));
                }

                c.Write(table);
            });
            return ExitCodes.Ok;
        }));
        return command;
    }

    public static Command Release() => Operate("release", "Let a quarantined batch go on to training (its pending schema proposals too, with --apply-proposals)", withProposals: true);

    public static Command Discard() => Operate("discard", "Drop a quarantined batch for good; it never trains", withProposals: false);

    private static Command Operate(string action, string description, bool withProposals)
    {
        var batch = new Argument<Guid>("batch") { Description = "The batch id (./ctm batches DATASET --status quarantined lists them)" };
        var reason = Shared.ReasonOption();
        var proposals = new Option<bool>("--apply-proposals") { Description = "Also approve the schema changes the Validator proposed for this batch" };
        var command = new Command(action, description) { batch, reason };
        if (withProposals)
        {
            command.Add(proposals);
        }

        command.SetAction((parse, ct) => Shared.RunAsync(parse, ct, async (api, output) =>
        {
            var id = parse.GetRequiredValue(batch);
            object body = withProposals
                ? new { @operator = api.Settings.Operator, reason = parse.GetRequiredValue(reason), applyProposals = parse.GetValue(proposals) }
                : new { @operator = api.Settings.Operator, reason = parse.GetRequiredValue(reason) };
            var result = await api.PostAsync("Validator", $"v1/batches/{id}/{action}", body, ct, notFound: $"The Validator knows no batch {id}.");
            output.Write(result, c => c.MarkupLineInterpolated($"batch {id} is now [bold]{result.Str("status")}[/] ({api.Settings.Operator}: {parse.GetRequiredValue(reason)})"));
            return ExitCodes.Ok;
        }));
        return command;
    }

    internal static string Reasons(JsonElement batch) =>
        string.Join("; ", batch.Items("reasons").Select(r => $"{r.Str("kind")} {r.Str("feature")}".Trim()));
}
