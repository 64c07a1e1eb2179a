using System.Diagnostics.CodeAnalysis;
using System.CommandLine;

namespace Ctm.Cli.Commands;

/// <summary>What every command shares: <c>--json</c>, settings, the HTTP client, and turning failures into exit codes.</summary>
[SuppressMessage("Naming", "CA1716", Justification = "Shared is a keyword only in Visual Basic; this executable's internals are not called from other languages.")]
public static class Shared
{
    public static readonly Option<bool> JsonOption = new("--json") { Description = "Write the result as JSON on stdout (errors too), for scripts", Recursive = true };

    public static Argument<string> DatasetArgument() => new("dataset") { Description = "The dataset's name" };

    public static Option<string> ReasonOption() => new("--reason") { Description = "Why (recorded in the audit log with your operator name)", Required = true };

    /// <summary>Runs <paramref name="body"/> with settings and a client; maps <see cref="CliException"/> to its exit code.</summary>
    [SuppressMessage("Design", "CA1068", Justification = "The command body is a multi-line lambda at every call site: it reads best last, after the token.")]
    public static async Task<int> RunAsync(ParseResult parse, CancellationToken ct, Func<CtmApi, Output, Task<int>> body, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(body);
        var output = new Output(parse.GetValue(JsonOption));
        try
        {
            var settings = CliSettings.Load(Environment.GetEnvironmentVariable);
            using var http = new HttpClient { Timeout = timeout ?? TimeSpan.FromSeconds(100) };
            return await body(new CtmApi(settings, http), output);
        }
        catch (CliException e)
        {
            output.Fail(e);
            return e.ExitCode;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return ExitCodes.Incomplete;
        }
    }
}
