using System.Diagnostics;
using Ctm.Testing;

namespace Ctm.EndToEnd.Tests.Faults;

/// <summary>
/// A PostgreSQL cluster of the test's own (initdb + pg_ctl in a temporary folder, on a free port), so a test can stop
/// and start the database without touching the shared server other tests and engineers use.
/// </summary>
public sealed class ThrowawayPostgres : IDisposable
{
    private readonly string _bin;

    private ThrowawayPostgres(string bin, string directory, int port)
    {
        _bin = bin;
        Directory = directory;
        Port = port;
    }

    public string Directory { get; }
    public int Port { get; }
    public string AdminConnectionString => $"Host=127.0.0.1;Port={Port};Username=ctm;Password=ctm;Database=postgres;Timeout=5";

    public static ThrowawayPostgres Create()
    {
        var bin = System.IO.Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin"))
            .Where(d => File.Exists(Path.Combine(d, "initdb"))).OrderDescending().FirstOrDefault()
            ?? throw new InvalidOperationException($"PostgreSQL's binaries are not under /usr/lib/postgresql/*/bin. {TestEnvironment.HowToStart}");
        var directory = Path.Combine(Path.GetTempPath(), $"ctm-faults-pg-{Guid.NewGuid():N}"[..30]);
        System.IO.Directory.CreateDirectory(directory);
        var postgres = new ThrowawayPostgres(bin, directory, TestEnvironment.FreePort());
        if (IsRoot)
        {
            Run("chown", "postgres:postgres", directory);
        }

        postgres.AsOwner("initdb", "-D", Path.Combine(directory, "data"), "-A", "trust", "-U", "ctm", "-E", "UTF8", "--locale=C");
        postgres.Start();
        return postgres;
    }

    public void Start() =>
        AsOwner("pg_ctl", "-D", Path.Combine(Directory, "data"), "-l", Path.Combine(Directory, "server.log"), "-w", "-t", "60",
            "-o", $"-p {Port} -k {Directory} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off", "start");

    /// <summary>Stops the server at once, as a crash or an operator's stop would: open connections are cut.</summary>
    public void Stop() => AsOwner("pg_ctl", "-D", Path.Combine(Directory, "data"), "-m", "immediate", "-w", "-t", "60", "stop");

    public void Dispose()
    {
        try
        {
            Stop();
        }
        catch (InvalidOperationException)
        {
            // Already stopped.
        }

        System.IO.Directory.Delete(Directory, recursive: true);
    }

    private static bool IsRoot => Environment.UserName == "root";

    private void AsOwner(string tool, params string[] args) =>
        Run(IsRoot ? "runuser" : Path.Combine(_bin, tool), IsRoot ? ["-u", "postgres", "--", Path.Combine(_bin, tool), .. args] : args);

    private static void Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} did not finish in 120 s");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {process.ExitCode}: {output.Result}{error.Result}");
        }
    }
}
