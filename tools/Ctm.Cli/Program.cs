using System.CommandLine;
using Ctm.Cli;
using Ctm.Cli.Commands;

var root = new RootCommand("Ctm operations: ingest, quarantine, versions, lineage, rollback, watch, status. Endpoints come from CTM_* variables or ~/.config/ctm/config.json.")
{
    Shared.JsonOption,
    IngestCommand.Create(),
    BatchCommands.List(),
    BatchCommands.Release(),
    BatchCommands.Discard(),
    ModelCommands.Versions(),
    ModelCommands.Lineage(),
    ModelCommands.Rollback(),
    WatchCommand.Create(),
    StatusCommand.Create(),
};

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    var output = new Output(args.Contains("--json"));
    output.Fail(new CliException(ExitCodes.Usage, string.Join("; ", parsed.Errors.Select(e => e.Message)), "Run ./ctm <command> --help for the arguments."));
    return ExitCodes.Usage;
}

return await parsed.InvokeAsync();
