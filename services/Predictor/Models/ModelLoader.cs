using System.Security.Cryptography;
using Ctm.Onnx;
using Ctm.Predictor.Extensions;
using Ctm.Predictor.Inference;
using Ctm.ServiceDefaults.Http;
using Microsoft.Extensions.Options;

namespace Ctm.Predictor.Models;

/// <summary>Loads a promoted version: download, verify the hash, create the session, warm up, then swap.</summary>
public sealed partial class ModelLoader(ModelCatalog catalog, IHttpClientFactory http, IOptions<ServingOptions> options, IOptions<ServiceUrls> urls, ILogger<ModelLoader> logger)
{
    private readonly SemaphoreSlim _loading = new(1, 1);

    public async Task<bool> LoadAsync(string dataset, int version, long generation, string artifactLocation, string sha256, CancellationToken ct)
    {
        await _loading.WaitAsync(ct);
        try
        {
            if (catalog.GenerationOf(dataset) >= generation)
            {
                LogStale(dataset, version, generation);
                return false;
            }

            using var client = http.CreateClient(HttpExtensions.ClientName);
            var bytes = await client.GetByteArrayAsync(artifactLocation, ct);
            var actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
            if (!string.Equals(actual, sha256, StringComparison.OrdinalIgnoreCase))
            {
                LogHashMismatch(dataset, version, actual, sha256);
                return false;
            }

            OnnxSession session;
            try
            {
                session = OnnxSession.Create(bytes, new OnnxSessionOptions { IntraOpThreads = options.Value.IntraOpThreads, Logger = logger });
                InstanceEncoder.WarmUp(session);
            }
            catch (Exception e) when (e is OnnxRuntimeException or ArgumentException or InvalidOperationException or PredictionInputException)
            {
                LogLoadFailed(e, dataset, version);
                return false;
            }

            var model = new LoadedModel(dataset, version, generation, sha256, session);
            if (!catalog.TrySwap(model))
            {
                model.Release();
                return false;
            }

            LogSwapped(dataset, version, generation);
            return true;
        }
        finally
        {
            _loading.Release();
        }
    }

    /// <summary>Loads whatever the Registry says is serving now (at start-up, before the first promotion arrives).</summary>
    public async Task LoadServingAsync(CancellationToken ct)
    {
        using var client = http.CreateClient(HttpExtensions.ClientName);
        var registry = ServiceUrls.Require(urls.Value.Registry, "Registry");
        var serving = await client.GetFromJsonAsync<List<ServingEntry>>(new Uri(registry, "v1/serving"), ct) ?? [];
        foreach (var s in serving)
        {
            await LoadAsync(s.Dataset, s.Version, s.Generation, s.ArtifactLocation, s.ArtifactSha256, ct);
        }
    }

    private sealed record ServingEntry(string Dataset, int Version, long Generation, string ArtifactLocation, string ArtifactSha256);

    [LoggerMessage(Level = LogLevel.Information, Message = "Now serving {Dataset} v{Version} (generation {Generation})")]
    private partial void LogSwapped(string dataset, int version, long generation);

    [LoggerMessage(Level = LogLevel.Information, Message = "Ignored {Dataset} v{Version}: generation {Generation} is not newer than the one serving")]
    private partial void LogStale(string dataset, int version, long generation);

    [LoggerMessage(Level = LogLevel.Error, Message = "Refused {Dataset} v{Version}: artifact SHA-256 is {Actual}, expected {Expected}; the current version keeps serving")]
    private partial void LogHashMismatch(string dataset, int version, string actual, string expected);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not load {Dataset} v{Version}; the current version keeps serving")]
    private partial void LogLoadFailed(Exception error, string dataset, int version);
}
