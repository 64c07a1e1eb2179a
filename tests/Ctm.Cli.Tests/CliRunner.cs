using System.Diagnostics;
using System.Text.Json;
using Ctm.Testing;

namespace Ctm.Cli.Tests;

/// <summary>What one CLI run printed and returned.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public JsonElement Json => JsonDocument.Parse(Stdout).RootElement;

    public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
}

/// <summary>Runs the built CLI as its own process against a running system, with endpoints in CTM_* variables as an operator sets them.</summary>
public static class CliRunner
{
    public static Task<CliResult> RunAsync(CtmSystem system, IReadOnlyDictionary<string, string>? overrides, params string[] args) =>
        RunAsync(system, CtmSystem.ServiceNames, overrides, null, TimeSpan.FromMinutes(4), args);

    /// <summary>
    /// Runs the CLI with the endpoints of <paramref name="services"/> only (a system may start fewer than five), calling
    /// <paramref name="whileRunning"/> with its process as soon as it starts (e.g. to sample its memory); it is cancelled when the process exits.
    /// </summary>
    public static async Task<CliResult> RunAsync(
        CtmSystem system, IEnumerable<string> services, IReadOnlyDictionary<string, string>? overrides, Func<Process, CancellationToken, Task>? whileRunning, TimeSpan timeout, string[] args)
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";
        var dll = Path.Combine(TestEnvironment.RepositoryRoot, "tools", "Ctm.Cli", "bin", configuration, "net10.0", "ctm-cli.dll");
        var start = new ProcessStartInfo("dotnet", [dll, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var name in services)
        {
            start.Environment[$"CTM_{name.ToUpperInvariant()}_URL"] = system[name].BaseUrl.ToString();
        }

        start.Environment["CTM_RABBITMQ_MANAGEMENT_URL"] = TestEnvironment.RabbitMqManagement.ToString();
        start.Environment["CTM_RABBITMQ_VHOST"] = system.Infrastructure.VirtualHost;
        start.Environment["CTM_OPERATOR"] = "cli-test";
        // The key comes from the environment, as an operator sets it; a test that needs another (or none) overrides it.
        start.Environment["CTM_API_KEY"] = TestKeys.Key(TestKeys.Default);
        start.Environment["CTM_CONFIG"] = Path.Combine(Path.GetTempPath(), "ctm-cli-tests-no-config.json");
        foreach (var (key, value) in overrides ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var exited = new CancellationTokenSource();
        var watching = whileRunning?.Invoke(process, exited.Token) ?? Task.CompletedTask;
        using var limit = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(limit.Token);
        await exited.CancelAsync();
        await watching;
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    public static Task<CliResult> RunAsync(CtmSystem system, params string[] args) => RunAsync(system, null, args);
}
