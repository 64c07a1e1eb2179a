using System.Diagnostics.CodeAnalysis;
using Ctm.Contracts;
using Ctm.Onnx;
using Ctm.Onnx.Model;
using Ctm.Predictor.Extensions;
using Ctm.Predictor.Inference;
using Ctm.ServiceDefaults.Http;
using Ctm.ServiceDefaults.Signing;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Ctm.Predictor.Models;

/// <summary>A model as the Registry lists it: its versions, the one the record says serves, one waiting for a replica, and whether a data stream feeds it.</summary>
public sealed record RegisteredModel(string Name, IReadOnlyList<int> Versions, int? ServingVersion, int? PendingVersion, bool DataStream);

/// <summary>A promotion to load, with the Registry's signature over it (<see cref="SignedPayload.Promotion(string, int, long, string, IReadOnlyDictionary{string, string}?)"/>).</summary>
public sealed record PromotionToLoad(string Dataset, int Version, long Generation, string ArtifactLocation, string Sha256, Guid CorrelationId, IReadOnlyDictionary<string, string>? InputMapping, string? Signature);

/// <summary>
/// Loads versions: download, verify the SHA-256, create the session, find the static path or start the micro-batcher,
/// warm up, then swap atomically. A version that fails leaves the current one serving, and says so in the log, in
/// <c>/health/ready</c> and <c>GET /v1/models/{name}</c>, and on the bus (<see cref="ModelLoadFailed"/>).
/// </summary>
[SuppressMessage("Design", "CA1001", Justification = "A SemaphoreSlim whose wait handle is never read holds no unmanaged resource; disposing it at shutdown would only race a load still holding it.")]
public sealed partial class ModelLoader(
    ModelCatalog catalog,
    IHttpClientFactory http,
    IOptions<ServingOptions> options,
    IOptions<ServiceUrls> urls,
    ReplicaIdentity replica,
    DecisionVerifier verifier,
    IServiceProvider services,
    ILogger<ModelLoader> logger)
{
    private readonly SemaphoreSlim _loading = new(1, 1);

    /// <summary>Loads a promoted version; returns whether it now serves.</summary>
    /// <exception cref="HttpRequestException">The artifact could not be downloaded (transient: the message is retried).</exception>
    public async Task<bool> LoadPromotedAsync(PromotionToLoad p, CancellationToken ct)
    {
        // Before anything else, the generation check included: only the Registry's signed decisions may move the generation.
        if (!verifier.Verify(SignedPayload.Promotion(p.Dataset, p.Version, p.Generation, p.Sha256, p.InputMapping), p.Signature))
        {
            LogForged(p.Dataset, p.Version, p.Generation, p.Signature is null ? "no signature" : "a signature that does not verify");
            var why = $"{p.Dataset} v{p.Version} generation {p.Generation} carries {(p.Signature is null ? "no Registry signature" : "a signature the Registry's key does not verify")}; not loaded";
            await FailAsync(p.Dataset, p.Version, p.Generation, p.CorrelationId, new ModelLoadException("forged", why), ct);
            return false;
        }

        await _loading.WaitAsync(ct);
        try
        {
            if (catalog.GenerationOf(p.Dataset) >= p.Generation)
            {
                if (catalog.Find(p.Dataset)?.Primary is { } current && current.Generation == p.Generation && current.Version == p.Version)
                {
                    // A redelivery (e.g. the first report did not reach the bus): say again that it serves.
                    await ReportLoadedAsync(current, p.CorrelationId, ct);
                    return true;
                }

                LogStale(p.Dataset, p.Version, p.Generation);
                return false;
            }

            byte[] bytes;
            try
            {
                bytes = await DownloadAsync(p.ArtifactLocation, p.Sha256, ct);
            }
            catch (ModelLoadException e)
            {
                await FailAsync(p.Dataset, p.Version, p.Generation, p.CorrelationId, e, ct);
                return false;
            }

            var info = new LoadedModelInfo(p.Dataset, p.Version, p.Generation, p.Sha256, p.ArtifactLocation, p.InputMapping);
            LoadedModel? unloaded = null;
            if (options.Value.UnloadBeforeLoad)
            {
                unloaded = catalog.Unload(p.Dataset);
                if (unloaded is not null)
                {
                    // Resource-preserving: the old session goes (after its requests) before the new one is created.
                    await unloaded.Released.WaitAsync(ct);
                    LogUnloaded(p.Dataset, unloaded.Version);
                }
            }

            LoadedModel model;
            try
            {
                model = Build(info, bytes);
            }
            catch (ModelLoadException e)
            {
                await FailAsync(p.Dataset, p.Version, p.Generation, p.CorrelationId, e, ct);
                if (unloaded is not null)
                {
                    await ReinstateAsync(unloaded.Info, ct);
                }

                return false;
            }

            if (!catalog.TrySwap(model))
            {
                model.DropReference();
                return false;
            }

            LogSwapped(p.Dataset, p.Version, p.Generation, model.Path, model.Table?.Size ?? 0);
            await ReportLoadedAsync(model, p.CorrelationId, ct);
            return true;
        }
        finally
        {
            _loading.Release();
        }
    }

    /// <summary>Loads whatever the Registry says is serving now (at start-up, before the first promotion arrives), then the configured canaries and shadows.</summary>
    public async Task LoadServingAsync(CancellationToken ct)
    {
        using var client = http.CreateClient(HttpExtensions.ClientName);
        var serving = await client.GetFromJsonAsync<List<ServingEntry>>(new Uri(Registry, "v1/serving"), ct) ?? [];
        foreach (var s in serving)
        {
            await LoadPromotedAsync(new PromotionToLoad(s.Dataset, s.Version, s.Generation, s.ArtifactLocation, s.ArtifactSha256, Guid.NewGuid(), s.InputMapping, s.Signature), ct);
        }

        // Then the promotions no replica has confirmed yet (newer generations): this replica's answer may be the first.
        var pending = await client.GetFromJsonAsync<List<ServingEntry>>(new Uri(Registry, "v1/serving/pending"), ct) ?? [];
        foreach (var s in pending.OrderBy(s => s.Generation))
        {
            await LoadPromotedAsync(new PromotionToLoad(s.Dataset, s.Version, s.Generation, s.ArtifactLocation, s.ArtifactSha256, Guid.NewGuid(), s.InputMapping, s.Signature), ct);
        }

        foreach (var (dataset, traffic) in options.Value.Traffic)
        {
            try
            {
                await ConfigureTrafficAsync(dataset, traffic, ct);
            }
            catch (ModelLoadException e)
            {
                LogTrafficFailed(e, dataset);
            }
        }
    }

    /// <summary>Every model the Registry has registered (<c>GET /v1/models</c>): for the repository index.</summary>
    /// <exception cref="HttpRequestException">The Registry did not answer.</exception>
    public async Task<IReadOnlyList<RegisteredModel>> ListRegisteredAsync(CancellationToken ct)
    {
        using var client = http.CreateClient(HttpExtensions.ClientName);
        return await client.GetFromJsonAsync<List<RegisteredModel>>(new Uri(Registry, "v1/models"), ct) ?? [];
    }

    /// <summary>Loads and installs (or clears) the canary and shadow versions of <paramref name="dataset"/>, fetched from the Registry.</summary>
    /// <exception cref="ModelLoadException">A version is unknown, fails its hash, or does not load; nothing changes.</exception>
    public async Task ConfigureTrafficAsync(string dataset, TrafficSettings traffic, CancellationToken ct)
    {
        var canary = traffic.CanaryVersion is { } c ? await LoadVersionAsync(dataset, c, ct) : null;
        LoadedModel? shadow;
        try
        {
            shadow = traffic.ShadowVersion is { } s ? await LoadVersionAsync(dataset, s, ct) : null;
        }
        catch
        {
            canary?.DropReference();
            throw;
        }

        catalog.SetCanary(dataset, canary, traffic.CanaryShare);
        catalog.SetShadow(dataset, shadow);
        LogTraffic(dataset, traffic.CanaryVersion, traffic.CanaryShare, traffic.ShadowVersion);
    }

    /// <summary>Loads one version from the Registry (its SHA-256 from <c>GET /v1/datasets/{d}/versions/{v}</c>), not installed.</summary>
    public async Task<LoadedModel> LoadVersionAsync(string dataset, int version, CancellationToken ct)
    {
        using var client = http.CreateClient(HttpExtensions.ClientName);
        var escaped = Uri.EscapeDataString(dataset);
        var response = await client.GetAsync(new Uri(Registry, $"v1/datasets/{escaped}/versions/{version}"), ct);
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            throw new ModelLoadException("unknown-version", $"the Registry has no version {version} of '{dataset}'");
        }

        var described = await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<VersionEntry>(ct)
            ?? throw new ModelLoadException("unknown-version", $"the Registry sent no description of {dataset} v{version}");
        var location = new Uri(Registry, $"v1/datasets/{escaped}/versions/{version}/artifact").ToString();
        try
        {
            var bytes = await DownloadAsync(location, described.Sha256, ct);
            return Build(new LoadedModelInfo(dataset, version, 0, described.Sha256, location, described.InputMapping), bytes);
        }
        catch (ModelLoadException e)
        {
            await FailAsync(dataset, version, 0, Guid.NewGuid(), e, ct);
            throw;
        }
    }

    /// <summary>Creates the session and everything that serves it; the caller installs it.</summary>
    /// <exception cref="ModelLoadException">ONNX Runtime rejects the model, or its inputs are not tabular.</exception>
    public LoadedModel Build(LoadedModelInfo info, byte[] bytes)
    {
        var o = options.Value;
        OnnxSession session;
        try
        {
            // The same loader and warm-up the Registry judged the upload with: one judgement, not two.
            session = OnnxServingLoader.Load(bytes, new OnnxSessionOptions { IntraOpThreads = o.IntraOpThreads, Logger = logger });
        }
        catch (OnnxModelRefusedException e)
        {
            throw new ModelLoadException("invalid-model", $"{info.Dataset} v{info.Version} cannot be served: {e.Message}", e);
        }

        try
        {
            var signature = ModelSignature.TryFrom(session, out var tensorsOnly);
            if (signature is null)
            {
                if (info.InputMapping is { Count: > 0 })
                {
                    throw new PredictionInputException($"its input mapping needs inputs of one row per instance, but {tensorsOnly}");
                }

                // Whole tensors only: each request runs as sent, never merged with another (fixed dimensions stay exact).
                LogTensorsOnly(info.Dataset, info.Version, tensorsOnly!);
                return new LoadedModel(info, session, null, null, null, new HotKeyCache(0)) { TensorsOnlyReason = tensorsOnly };
            }

            signature.ApplyMapping(info.InputMapping);
            try
            {
                StaticDomain.Analyze(signature, OnnxGraphReader.ReadNodes(bytes));
            }
            catch (InvalidDataException e)
            {
                LogGraphUnreadable(info.Dataset, info.Version, e.Message);
            }

            var executor = new BatchExecutor(session, signature);
            executor.WarmUp();

            StaticTable? table = null;
            if (signature.StaticCombinations() is { } combinations && combinations <= o.StaticTableLimit)
            {
                table = StaticTable.Build(signature, executor, (int)combinations);
            }

            var batcher = table is null
                ? new MicroBatcher(executor, new BatchingSettings(o.MaxBatchSize, TimeSpan.FromTicks(o.BatchTimeoutMicroseconds * 10L), o.BatchThreads, o.QueueCapacity), info.Dataset, info.Version)
                : null;
            return new LoadedModel(info, session, signature, table, batcher, new HotKeyCache(table is null ? o.HotKeyCacheSize : 0));
        }
        catch (Exception e) when (e is OnnxRuntimeException or ArgumentException or InvalidOperationException or NotSupportedException or PredictionInputException)
        {
            session.Dispose();
            throw new ModelLoadException("invalid-model", $"{info.Dataset} v{info.Version} cannot be served: {e.Message}", e);
        }
    }

    private Uri Registry => ServiceUrls.Require(urls.Value.Registry, "Registry");

    private async Task<byte[]> DownloadAsync(string location, string sha256, CancellationToken ct)
    {
        try
        {
            return await http.RedeemClaimCheckAsync(location, sha256, ct);
        }
        catch (HttpRequestException e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            throw new ModelLoadException("download-failed", $"the artifact at {location} does not exist (404)");
        }
        catch (ClaimCheckMismatchException e)
        {
            throw new ModelLoadException("hash-mismatch", $"the artifact's SHA-256 is {e.Actual}, expected {e.Expected}");
        }
    }

    /// <summary>Tells the Registry this replica serves a promoted version; a failure to publish fails the promotion's message, which is retried.</summary>
    private async Task ReportLoadedAsync(LoadedModel model, Guid correlationId, CancellationToken ct)
    {
        if (model.Generation <= 0)
        {
            return;
        }

        await services.GetRequiredService<IBus>().Publish(new ModelLoaded
        {
            Dataset = model.Dataset,
            Version = model.Version,
            Generation = model.Generation,
            Replica = replica.Name,
            ArtifactSha256 = model.Sha256,
            LoadedAt = model.LoadedAt,
            CorrelationId = correlationId,
            Path = model.Path,
        }, ct);
    }

    private async Task ReinstateAsync(LoadedModelInfo previous, CancellationToken ct)
    {
        try
        {
            var bytes = await DownloadAsync(previous.ArtifactLocation, previous.Sha256, ct);
            var model = Build(previous, bytes);
            if (!catalog.TrySwap(model))
            {
                model.DropReference();
            }

            LogReinstated(previous.Dataset, previous.Version);
        }
        catch (Exception e) when (e is ModelLoadException or HttpRequestException)
        {
            catalog.EndGap(previous.Dataset);
            LogReinstateFailed(e, previous.Dataset, previous.Version);
        }
    }

    private async Task FailAsync(string dataset, int version, long generation, Guid correlationId, ModelLoadException e, CancellationToken ct)
    {
        var serving = catalog.Find(dataset)?.Primary?.Version;
        LogLoadFailed(dataset, version, e.Kind, e.Message, serving);
        catalog.RecordFailure(dataset, new LoadFailure(version, generation, e.Kind, e.Message, DateTimeOffset.UtcNow));
        try
        {
            await services.GetRequiredService<IBus>().Publish(new ModelLoadFailed
            {
                Dataset = dataset,
                Version = version,
                Generation = generation,
                Replica = replica.Name,
                Kind = e.Kind,
                Reason = e.Message,
                ServingVersion = serving,
                FailedAt = DateTimeOffset.UtcNow,
                CorrelationId = correlationId,
            }, ct);
        }
        catch (Exception publish) when (publish is not OperationCanceledException)
        {
            LogReportFailed(publish, dataset, version);
        }
    }

    private sealed record ServingEntry(string Dataset, int Version, long Generation, string ArtifactLocation, string ArtifactSha256, IReadOnlyDictionary<string, string>? InputMapping, string? Signature);

    private sealed record VersionEntry(string Dataset, int Version, string Sha256, IReadOnlyDictionary<string, string>? InputMapping);

    [LoggerMessage(Level = LogLevel.Information, Message = "Now serving {Dataset} v{Version} (generation {Generation}) on the {Path} path ({TableSize} table entries)")]
    private partial void LogSwapped(string dataset, int version, long generation, string path, int tableSize);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Dataset} v{Version} takes whole tensors (no row batching, no cache): {Reason}")]
    private partial void LogTensorsOnly(string dataset, int version, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Ignored {Dataset} v{Version}: generation {Generation} is not newer than the one serving")]
    private partial void LogStale(string dataset, int version, long generation);

    [LoggerMessage(Level = LogLevel.Error, Message = "Refused {Dataset} v{Version} ({Kind}): {Reason}; the version serving ({Serving}) keeps serving")]
    private partial void LogLoadFailed(string dataset, int version, string kind, string reason, int? serving);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Forged promotion of {Dataset} v{Version} (generation {Generation}) refused: it carries {Problem}")]
    private partial void LogForged(string dataset, int version, long generation, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "Unloaded {Dataset} v{Version} before loading its successor (resource-preserving swap)")]
    private partial void LogUnloaded(string dataset, int version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reloaded {Dataset} v{Version} after its successor failed to load")]
    private partial void LogReinstated(string dataset, int version);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not reload {Dataset} v{Version} after its successor failed; nothing serves it on this replica")]
    private partial void LogReinstateFailed(Exception error, string dataset, int version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not publish ModelLoadFailed for {Dataset} v{Version}")]
    private partial void LogReportFailed(Exception error, string dataset, int version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the graph of {Dataset} v{Version} ({Error}); it is served on the dynamic path")]
    private partial void LogGraphUnreadable(string dataset, int version, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Traffic of {Dataset}: canary v{Canary} at {Share:P0}, shadow v{Shadow}")]
    private partial void LogTraffic(string dataset, int? canary, double share, int? shadow);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not set up the configured canary or shadow of {Dataset}")]
    private partial void LogTrafficFailed(Exception error, string dataset);
}

/// <summary>This replica's name (in its fan-out queue, its reports and its failures).</summary>
public sealed class ReplicaIdentity
{
    public string Name { get; } = Shorten($"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid():N}".ToLowerInvariant());

    private static string Shorten(string s) => s.Length > 48 ? s[^48..] : s;
}
