using System.Security.Cryptography;
using System.Text.Json;
using Ctm.Contracts;
using Ctm.Registry.Storage;
using Ctm.ServiceDefaults.Http;
using Ctm.ServiceDefaults.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Ctm.Registry.Models;

/// <summary>Registers trained versions with their lineage, and promotes them.</summary>
public sealed partial class ModelRegistration(
    RegistryDbContext db,
    IHttpClientFactory http,
    IOptions<ServiceUrls> urls,
    OutboxSignal signal,
    TimeProvider clock,
    ILogger<ModelRegistration> logger)
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task RegisterAsync(ModelTrained message, CancellationToken ct)
    {
        if (await db.Versions.AnyAsync(v => v.RunId == message.RunId, ct))
        {
            LogDuplicate(message.RunId);
            return;
        }

        // Take ownership of the artifact: fetch it from the Trainer and check it is the announced one.
        using var client = http.CreateClient(HttpExtensions.ClientName);
        var artifact = await client.GetByteArrayAsync(message.ArtifactLocation, ct);
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(artifact));
        if (!string.Equals(sha256, message.ArtifactSha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"The artifact at {message.ArtifactLocation} has SHA-256 {sha256}, not the announced {message.ArtifactSha256}");
        }

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await LockDatasetAsync(message.Dataset, ct);
        if (!await db.TryMarkProcessedAsync("register-model", message.RunId.ToString(), ct))
        {
            LogDuplicate(message.RunId);
            return;
        }

        var now = clock.GetUtcNow();
        var version = await db.Versions.Where(v => v.Dataset == message.Dataset).MaxAsync(v => (int?)v.Version, ct) ?? 0;
        version++;
        db.Versions.Add(new ModelVersion
        {
            Dataset = message.Dataset,
            Version = version,
            RunId = message.RunId,
            ParentVersion = message.ParentVersion,
            SchemaVersion = message.SchemaVersion,
            Task = message.Task,
            Artifact = artifact,
            Sha256 = sha256,
            Size = artifact.LongLength,
            Metrics = JsonSerializer.Serialize(message.Metrics, Json),
            SliceMetrics = message.SliceMetrics is null ? null : JsonSerializer.Serialize(message.SliceMetrics, Json),
            Parameters = JsonSerializer.Serialize(message.Parameters, Json),
            Engine = message.Engine,
            Device = message.Device,
            Seed = message.Seed,
            CodeVersion = message.CodeVersion,
            StartedAt = message.StartedAt,
            FinishedAt = message.FinishedAt,
            SamplesPerSecond = message.SamplesPerSecond,
            Origin = "trained",
            CreatedAt = now,
        });
        // Saved first: nothing tells EF that lineage rows reference the version row.
        await db.SaveChangesAsync(ct);
        db.VersionBatches.AddRange(message.BatchIds.Distinct().Select(b => new VersionBatch { Dataset = message.Dataset, Version = version, BatchId = b }));
        await db.SaveChangesAsync(ct);
        LogRegistered(message.Dataset, version, message.RunId, message.BatchIds.Count);

        await PromoteAsync(message.Dataset, version, sha256, message.RunId, "trained", "registry", new { runId = message.RunId, metrics = message.Metrics }, message.CorrelationId, ct);
        await tx.CommitAsync(ct);
        signal.Notify();
    }

    /// <summary>
    /// Makes <paramref name="version"/> the serving one, inside the caller's transaction: ends the current promotion,
    /// writes the next generation, and enqueues <see cref="ModelPromoted"/>.
    /// </summary>
    public async Task<long> PromoteAsync(string dataset, int version, string sha256, Guid? runId, string reason, string actor, object details, Guid correlationId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var generation = (await db.Promotions.Where(p => p.Dataset == dataset).MaxAsync(p => (long?)p.Generation, ct) ?? 0) + 1;
        await db.Promotions.Where(p => p.Dataset == dataset && p.EndedAt == null).ExecuteUpdateAsync(s => s.SetProperty(p => p.EndedAt, now), ct);
        db.Promotions.Add(new Promotion
        {
            Dataset = dataset,
            Version = version,
            Generation = generation,
            Reason = reason,
            Actor = actor,
            Details = JsonSerializer.Serialize(details, Json),
            PromotedAt = now,
        });
        await db.SaveChangesAsync(ct);
        await db.EnqueueAsync(new ModelPromoted
        {
            Dataset = dataset,
            Version = version,
            CorrelationId = correlationId,
            Generation = generation,
            ArtifactLocation = ArtifactLocation(dataset, version),
            ArtifactSha256 = sha256,
            RunId = runId,
            Reason = reason,
            PromotedAt = now,
        }, correlationId, ct);
        LogPromoted(dataset, version, generation, reason);
        return generation;
    }

    public string ArtifactLocation(string dataset, int version) =>
        new Uri(ServiceUrls.Require(urls.Value.Registry, "Registry"), $"v1/datasets/{Uri.EscapeDataString(dataset)}/versions/{version}/artifact").ToString();

    private Task LockDatasetAsync(string dataset, CancellationToken ct) =>
        db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtext({"registry:" + dataset}))", ct);

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId} is already registered; redelivery ignored")]
    private partial void LogDuplicate(Guid runId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Registered {Dataset} v{Version} from run {RunId}, trained on {Batches} batches")]
    private partial void LogRegistered(string dataset, int version, Guid runId, int batches);

    [LoggerMessage(Level = LogLevel.Information, Message = "Promoted {Dataset} v{Version} (generation {Generation}, {Reason})")]
    private partial void LogPromoted(string dataset, int version, long generation, string reason);
}
