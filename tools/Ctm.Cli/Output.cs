using System.Text.Json;
using Spectre.Console;

namespace Ctm.Cli;

/// <summary>
/// Where a command writes: with <c>--json</c>, one JSON document (or one per line for <c>watch</c>) on stdout and
/// nothing else; without, tables and trees for people. Progress and errors go to stderr either way.
/// </summary>
public sealed class Output(bool json)
{
    private static readonly JsonSerializerOptions Indented = new(CtmApi.Json) { WriteIndented = true };

    public bool Json => json;

    /// <summary>The console for people (stdout).</summary>
    public IAnsiConsole Out { get; } = Create(Console.Out, Console.IsOutputRedirected);

    /// <summary>Progress and errors (stderr), so stdout stays the result.</summary>
    public IAnsiConsole Error { get; } = Create(Console.Error, Console.IsErrorRedirected);

    /// <summary>Writes <paramref name="value"/> as JSON with <c>--json</c>, else runs <paramref name="human"/>.</summary>
    public void Write(object? value, Action<IAnsiConsole> human)
    {
        ArgumentNullException.ThrowIfNull(human);
        if (json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(value, Indented));
        }
        else
        {
            human(Out);
        }
    }

    /// <summary>One JSON object on one line (for streams of events).</summary>
    public static void WriteLine(object value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, CtmApi.Json));

    // Piped into grep or a file: no colour codes, and rows as wide as they need (ids must not wrap).
    private static IAnsiConsole Create(TextWriter writer, bool redirected)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = redirected || Environment.GetEnvironmentVariable("NO_COLOR") is { Length: > 0 } ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = redirected ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Interactive = redirected ? InteractionSupport.No : InteractionSupport.Detect,
        });
        if (redirected)
        {
            console.Profile.Width = 400;
        }

        return console;
    }

    public void Fail(CliException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(new { error = e.Message, hint = e.Hint, exitCode = e.ExitCode, details = e.Details }, Indented));
            return;
        }

        Error.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
        if (e.Hint is not null)
        {
            Error.MarkupLineInterpolated($"[grey]next:[/] {e.Hint}");
        }
    }
}

/// <summary>Reading the services' JSON answers without a class per answer.</summary>
public static class JsonText
{
    public static string Str(this JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined)
            ? (v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText())
            : "";

    public static int? Int(this JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : null;

    public static bool Bool(this JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;

    public static IEnumerable<JsonElement> Items(this JsonElement e, string? name = null)
    {
        var array = name is null ? e : e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) ? v : default;
        return array.ValueKind == JsonValueKind.Array ? array.EnumerateArray() : [];
    }
}
