using System.Net;
using System.Text.Json;
using Ctm.Contracts;
using Ctm.Data.Statistics;
using Ctm.Data.Validation;
using Ctm.ServiceDefaults.Http;
using Ctm.Validator.Extensions;
using Ctm.Validator.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Ctm.Validator.Skew;

/// <summary>
/// Training/serving skew: the serving statistics of a model version against its training baseline, the merge of
/// the statistics of exactly the batches that version was trained on (from <see cref="ModelTrained.BatchIds"/>,
/// and <see cref="ModelPromoted.RunId"/> to find the run of a version).
/// </summary>
public sealed partial class SkewService(
    ValidatorDbContext db, DatasetStore store, IHttpClientFactory http, IOptions<ServiceUrls> urls, IOptions<ValidatorOptions> settings, TimeProvider clock, ILogger<SkewService> logger)
{
    public async Task RecordRunAsync(ModelTrained message, CancellationToken ct)
    {
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO validator.model_runs (run_id, dataset, batch_ids, schema_version, finished_at)
            VALUES ({message.RunId}, {message.Dataset}, {message.BatchIds.ToArray()}, {message.SchemaVersion}, {message.FinishedAt})
            ON CONFLICT (run_id) DO NOTHING
            """, ct);
    }

    public async Task RecordPromotionAsync(ModelPromoted message, CancellationToken ct)
    {
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO validator.model_versions (dataset, version, run_id, generation, promoted_at)
            VALUES ({message.Dataset}, {message.Version}, {message.RunId}, {message.Generation}, {message.PromotedAt})
            ON CONFLICT (dataset, version) DO UPDATE SET generation = excluded.generation, promoted_at = excluded.promoted_at
            WHERE validator.model_versions.generation < excluded.generation
            """, ct);
    }

    /// <summary>Checks one report of serving statistics and stores the result (idempotent per report id).</summary>
    public async Task<SkewReport> CheckAsync(Guid reportId, ServingStatisticsReported message, CancellationToken ct)
    {
        if (await db.SkewReports.AsNoTracking().SingleOrDefaultAsync(r => r.Id == reportId, ct) is { } existing)
        {
            return existing;
        }

        var serving = BatchStatistics.FromJson(message.Statistics);
        var batchIds = await BaselineBatchesAsync(message.Dataset, message.ModelVersion, ct);
        var baseline = batchIds is null ? null : await store.MergeAsync(batchIds, ct);
        var schema = await store.CurrentSchemaAsync(message.Dataset, ct);
        string status;
        IReadOnlyList<Ctm.Data.Validation.Anomaly> anomalies = [];
        if (baseline is null || schema is null)
        {
            status = "no-baseline";
        }
        else
        {
            var withThresholds = await store.WithThresholdsAsync(message.Dataset, schema.Data, ct);
            anomalies = new BatchValidator(settings.Value.ToOptions()).CheckSkew(baseline, serving, withThresholds).Anomalies;
            status = anomalies.Count == 0 ? "ok" : "skewed";
        }

        var report = new SkewReport
        {
            Id = reportId,
            Dataset = message.Dataset,
            ModelVersion = message.ModelVersion,
            Replica = message.Replica,
            WindowStart = message.WindowStart,
            WindowEnd = message.WindowEnd,
            SampledRows = message.SampledRows,
            ServedRows = message.ServedRows,
            Statistics = message.Statistics,
            BaselineBatchIds = batchIds ?? [],
            Status = status,
            Anomalies = [.. anomalies],
            CreatedAt = clock.GetUtcNow(),
        };
        db.SkewReports.Add(report);
        await db.SaveChangesAsync(ct);

        if (status == "skewed")
        {
            LogSkewed(message.Dataset, message.ModelVersion, string.Join(" ", anomalies.Select(a => a.Description)));
        }

        return report;
    }

    /// <summary>The batches <paramref name="version"/> was trained on: from the events we consumed, else from the Registry's lineage.</summary>
    private async Task<Guid[]?> BaselineBatchesAsync(string dataset, int version, CancellationToken ct)
    {
        var local = await (from v in db.Versions
                           join r in db.Runs on v.RunId equals r.RunId
                           where v.Dataset == dataset && v.Version == version
                           select r.BatchIds).FirstOrDefaultAsync(ct);
        if (local is not null)
        {
            return local;
        }

        if (urls.Value.Registry is not { } registry)
        {
            return null;
        }

        using var client = http.CreateClient(HttpExtensions.ClientName);
        using var response = await client.GetAsync(new Uri(registry, $"v1/datasets/{Uri.EscapeDataString(dataset)}/versions/{version}"), ct);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        var lineage = await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>(ct);
        return lineage.TryGetProperty("batchIds", out var ids) ? [.. ids.EnumerateArray().Select(i => i.GetGuid())] : null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Serving inputs of {Dataset} v{Version} are skewed from the training baseline: {Anomalies}")]
    private partial void LogSkewed(string dataset, int version, string anomalies);
}
