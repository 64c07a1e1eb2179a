using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;

namespace Ctm.Testing;

/// <summary>
/// Serves bytes over HTTP on loopback, addressed by their SHA-256, as a claim check's location would: artifacts as the
/// Trainer serves them (so a test can publish <c>ModelTrained</c> for lineages it chooses without training each one),
/// or a batch as Ingest serves it.
/// </summary>
public sealed class ArtifactHost : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentDictionary<string, byte[]> _files = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private int _requests;

    public ArtifactHost()
    {
        var port = TestEnvironment.FreePort();
        BaseUrl = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(BaseUrl.ToString());
        _listener.Start();
        _ = Task.Run(ServeAsync);
    }

    public Uri BaseUrl { get; }

    /// <summary>How many requests the host has answered, found or not.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Publishes <paramref name="bytes"/>; returns its URL and SHA-256.</summary>
    public (string Url, string Sha256) Add(byte[] bytes)
    {
        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        _files[sha] = bytes;
        return (new Uri(BaseUrl, $"artifacts/{sha}").ToString(), sha);
    }

    /// <summary>Serves <paramref name="bytes"/> at every URL whose last segment is <paramref name="name"/>: a stand-in for another service's answer.</summary>
    public Uri AddNamed(string name, byte[] bytes)
    {
        _files[name] = bytes;
        return new Uri(BaseUrl, name);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Close();
        _stop.Dispose();
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }

            Interlocked.Increment(ref _requests);
            var key = context.Request.Url!.Segments[^1];
            if (_files.TryGetValue(key, out var bytes))
            {
                context.Response.ContentType = "application/octet-stream";
                context.Response.ContentLength64 = bytes.Length;
                await context.Response.OutputStream.WriteAsync(bytes);
            }
            else
            {
                context.Response.StatusCode = 404;
            }

            context.Response.Close();
        }
    }
}
