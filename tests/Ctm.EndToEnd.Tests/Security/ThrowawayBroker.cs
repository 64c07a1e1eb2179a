using System.Diagnostics;
using System.Net.Sockets;
using Ctm.Testing;

namespace Ctm.EndToEnd.Tests.Security;

/// <summary>
/// A RabbitMQ node of the test's own, started by <c>scripts/infra.sh up rabbitmq</c> exactly as <c>./ctm infra up</c>
/// starts the shared one (its own node name, ports and state folder), so a test can check what the script makes of a
/// fresh node, or stop and pause it, without touching the node other tests and engineers use.
/// </summary>
public sealed class ThrowawayBroker : IAsyncDisposable
{
    private readonly Dictionary<string, string> _environment;

    private ThrowawayBroker(string directory, int port, int managementPort, Dictionary<string, string> environment)
    {
        Directory = directory;
        Port = port;
        ManagementPort = managementPort;
        _environment = environment;
    }

    public string Directory { get; }
    public int Port { get; }
    public int ManagementPort { get; }

    /// <summary>What <c>infra.sh env</c> prints for this node, as name → value.</summary>
    public IReadOnlyDictionary<string, string> Env { get; private set; } = new Dictionary<string, string>();

    /// <summary>The node's AMQP and management URIs with the administrator's credentials (for <c>CtmSystem</c>).</summary>
    public (Uri Amqp, Uri Management) Admin => (new Uri(Env["CTM_TEST_RABBITMQ"]), new Uri(Env["CTM_TEST_RABBITMQ_MANAGEMENT"]));

    /// <summary>The node's Erlang VM (what <c>rabbitmq-server</c> runs as).</summary>
    public int ProcessId => int.Parse(File.ReadAllText(Path.Combine(Directory, "rabbitmq", "rabbitmq.pid")).Trim(), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Kills the node at once (SIGKILL), as a crash would.</summary>
    public void Kill() => Signal("KILL");

    /// <summary>Freezes the node (SIGSTOP): connections stay open and nothing answers.</summary>
    public void Pause() => Signal("STOP");

    /// <summary>Lets a paused node go on (SIGCONT).</summary>
    public void Resume() => Signal("CONT");

    /// <summary>Starts the node again on its data (after <see cref="Kill"/>), as <c>./ctm infra up</c> would.</summary>
    public Task RestartAsync() => InfraAsync("up", "rabbitmq");

    /// <summary>The generated password of <paramref name="role"/> (<c>admin</c> or a role of permissions.txt).</summary>
    public string Password(string role) => File.ReadAllText(Path.Combine(Directory, "broker", "passwords", role)).Trim();

    public static async Task<ThrowawayBroker> StartAsync()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"ctm-broker-{Guid.NewGuid():N}"[..23]);
        System.IO.Directory.CreateDirectory(directory);
        // The Erlang distribution port is the AMQP port + 20000 (infra.sh): keep both below 65536.
        var port = FreePortBelow(40_000);
        var management = TestEnvironment.FreePort();
        var environment = new Dictionary<string, string>
        {
            ["CTM_STATE_DIR"] = directory,
            ["CTM_INFRA"] = "local",
            ["CTM_RABBIT_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["CTM_RABBIT_MGMT_PORT"] = management.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["CTM_RABBIT_NODE"] = $"ctmt{Guid.NewGuid():N}"[..12] + "@localhost",
        };
        var broker = new ThrowawayBroker(directory, port, management, environment);
        await broker.InfraAsync("up", "rabbitmq");
        broker.Env = (await broker.InfraAsync("env")).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l.StartsWith("export ", StringComparison.Ordinal))
            .Select(l => l["export ".Length..].Split('=', 2))
            .ToDictionary(p => p[0], p => p[1].Trim('\''), StringComparer.Ordinal);
        return broker;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await InfraAsync("down", "rabbitmq");
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException)
        {
            // Best effort: the folder and the node's name are unique to this run.
        }
    }

    /// <summary>Runs <c>scripts/infra.sh</c> for this node; its stdout, or a failure with both streams.</summary>
    public async Task<string> InfraAsync(params string[] args)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(TestEnvironment.RepositoryRoot, "scripts", "infra.sh"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in _environment)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(6));
        await process.WaitForExitAsync(timeout.Token);
        return process.ExitCode == 0
            ? await stdout
            : throw new InvalidOperationException($"infra.sh {string.Join(' ', args)} exited {process.ExitCode}:\n{await stdout}\n{await stderr}");
    }

    private void Signal(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {ProcessId} exited {kill.ExitCode}");
        }
    }

    private static int FreePortBelow(int limit)
    {
        var random = new Random();
        for (var i = 0; i < 200; i++)
        {
            var port = random.Next(20_000, limit);
            if (Free(port) && Free(port + 20_000))
            {
                return port;
            }
        }

        throw new InvalidOperationException($"no free port pair (p, p + 20000) below {limit}");
    }

    private static bool Free(int port)
    {
        try
        {
            var listener = new TcpListener(System.Net.IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
