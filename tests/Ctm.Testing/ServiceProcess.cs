using System.Collections.Concurrent;
using System.Diagnostics;

namespace Ctm.Testing;

/// <summary>One Ctm service running as its own process, as in production; its output is kept for failure messages.</summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _log = new();

    private ServiceProcess(string name, Uri baseUrl, Process process)
    {
        Name = name;
        BaseUrl = baseUrl;
        _process = process;
    }

    public string Name { get; }
    public Uri BaseUrl { get; }
    public bool HasExited => _process.HasExited;
    public int ProcessId => _process.Id;
    public IEnumerable<string> Log => _log;

    /// <summary>
    /// Starts <paramref name="name"/> from this checkout's build, or from <paramref name="binDirectory"/> (another build of
    /// the same service, e.g. the serving benchmark's baseline) when given.
    /// </summary>
    public static ServiceProcess Start(string name, int port, IReadOnlyDictionary<string, string> environment, string? binDirectory = null)
    {
        var root = TestEnvironment.RepositoryRoot;
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";
        var dll = Path.Combine(binDirectory ?? Path.Combine(root, "services", name, "bin", configuration, "net10.0"), $"Ctm.{name}.dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"{dll} is not built: build Ctm.sln first (./ctm test does).", dll);
        }

        var url = $"http://127.0.0.1:{port}";
        var start = new ProcessStartInfo("dotnet", [dll])
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["ASPNETCORE_URLS"] = url;
        start.Environment["Urls"] = url;
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Logging__Console__FormatterName"] = "simple";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var service = new ServiceProcess(name, new Uri(url + "/"), process);
        process.OutputDataReceived += (_, e) => service.Append(e.Data);
        process.ErrorDataReceived += (_, e) => service.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }

    /// <summary>Waits for <c>/health/ready</c>; fails with the service's own output if it exits or never gets ready.</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + timeout;
        string last = "no answer";
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode} before it was ready:\n{Tail()}");
            }

            try
            {
                using var response = await http.GetAsync("health/ready");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }

                last = await response.Content.ReadAsStringAsync();
            }
            catch (HttpRequestException e)
            {
                last = e.Message;
            }
            catch (TaskCanceledException)
            {
                last = "timed out";
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"{Name} was not ready within {timeout.TotalSeconds:0} s (last: {last}):\n{Tail()}");
    }

    /// <summary>Kills the process at once, as a crash would.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    public string Tail(int lines = 60) => string.Join('\n', _log.TakeLast(lines));

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // SIGTERM first: a graceful stop, as an orchestrator would do.
            Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])?.WaitForExit(2000);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                Kill();
            }
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        _log.Enqueue(line);
        while (_log.Count > 2000 && _log.TryDequeue(out _))
        {
        }
    }
}
