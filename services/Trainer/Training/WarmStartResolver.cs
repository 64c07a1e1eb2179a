using System.Globalization;
using System.Net;
using System.Text.Json;
using Ctm.Ml;
using Ctm.ServiceDefaults.Http;
using Ctm.Trainer.Policies;
using Ctm.Trainer.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Ctm.Trainer.Training;

/// <summary>A run's parent: its version and run, its state, the batches it trained on, its warm chain's length, or why the run starts cold.</summary>
public sealed record WarmStartParent(int? Version, Guid? RunId, ModelState? State, IReadOnlySet<Guid> Batches, int UpdatesSinceFull, long WindowRowsAtFull, string? ColdReason)
{
    public static WarmStartParent Cold(string? reason) => new(null, null, null, new HashSet<Guid>(), 0, 0, reason);
}

/// <summary>
/// Finds what a run warm-starts from: the version a request names, else the serving version when the policy
/// warm-starts. A full retrain (requested, or it or an ancestor trained on a batch excluded since) starts cold with its
/// reason; whether the data still fits the parent (features, classes) the recipe decides.
/// </summary>
public sealed partial class WarmStartResolver(TrainerDbContext db, IHttpClientFactory http, IOptions<ServiceUrls> urls, ILogger<WarmStartResolver> logger)
{
    public async Task<WarmStartParent> ResolveAsync(string dataset, TrainingPolicy policy, List<TrainingJob> jobs, CancellationToken ct)
    {
        if (jobs.Any(j => j.FullRetrain))
        {
            return WarmStartParent.Cold("full retrain requested");
        }

        Guid? runId;
        int version;
        if (jobs.LastOrDefault(j => j.FromVersion is not null)?.FromVersion is { } from)
        {
            (version, runId) = (from, await RunOfVersionAsync(dataset, from, ct));
        }
        else if (policy.WarmStart && await db.Serving.AsNoTracking().SingleOrDefaultAsync(s => s.Dataset == dataset, ct) is { RunId: { } servingRun } serving)
        {
            (version, runId) = (serving.Version, servingRun);
        }
        else
        {
            return WarmStartParent.Cold(policy.WarmStart ? null : "the policy does not warm-start");
        }

        var parent = await db.Runs.AsNoTracking().Where(r => r.Id == runId).Select(r => new { r.State, r.BatchIds, r.Parameters }).SingleOrDefaultAsync(ct);
        if (parent is null)
        {
            return WarmStartParent.Cold(null);
        }

        if (await ExcludedInLineageAsync(runId, ct) is { } excluded)
        {
            LogColdBecauseExcluded(dataset, version, excluded);
            return WarmStartParent.Cold($"v{version} (or a warm-start ancestor) trained on batch {excluded}, excluded since");
        }

        int updates = 0;
        long rowsAtFull = 0;
        if (parent.Parameters.TryGetValue("updatesSinceFull", out var u) && int.TryParse(u, CultureInfo.InvariantCulture, out var n))
        {
            updates = n;
        }

        if (parent.Parameters.TryGetValue("windowRowsAtFull", out var w) && long.TryParse(w, CultureInfo.InvariantCulture, out var m))
        {
            rowsAtFull = m;
        }

        return new WarmStartParent(version, runId, ModelState.FromBytes(parent.State), parent.BatchIds.ToHashSet(), updates, rowsAtFull, null);
    }

    /// <summary>A batch excluded since that the run or one of its warm-start ancestors trained on, or null.</summary>
    private async Task<Guid?> ExcludedInLineageAsync(Guid? runId, CancellationToken ct)
    {
        for (var depth = 0; runId is { } id && depth < 10_000; depth++)
        {
            var run = await db.Runs.AsNoTracking().Where(r => r.Id == id).Select(r => new { r.BatchIds, r.ParentRunId }).SingleOrDefaultAsync(ct);
            if (run is null)
            {
                return null;
            }

            var excluded = await db.Batches.AsNoTracking().Where(b => run.BatchIds.Contains(b.BatchId) && b.Excluded).Select(b => (Guid?)b.BatchId).FirstOrDefaultAsync(ct);
            if (excluded is not null)
            {
                return excluded;
            }

            runId = run.ParentRunId;
        }

        return null;
    }

    /// <summary>The run that made a Registry version, from the Registry's public API.</summary>
    private async Task<Guid> RunOfVersionAsync(string dataset, int version, CancellationToken ct)
    {
        using var client = http.CreateClient(HttpExtensions.ClientName);
        var registry = ServiceUrls.Require(urls.Value.Registry, "Registry");
        using var response = await client.GetAsync(new Uri(registry, $"v1/datasets/{Uri.EscapeDataString(dataset)}/versions/{version}"), ct);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            throw new UnusableParentException(version, $"Retrain from version {version} of {dataset}: the Registry has no such version");
        }

        var body = await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>(ct);
        return body.TryGetProperty("runId", out var run) && run.ValueKind == JsonValueKind.String
            ? run.GetGuid()
            : throw new UnusableParentException(version, $"Retrain from version {version} of {dataset}: it was not trained here (no run id)");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Not warm-starting {Dataset} from v{Version}: it (or a warm-start ancestor) trained on batch {Batch}, excluded since; training from scratch")]
    private partial void LogColdBecauseExcluded(string dataset, int version, Guid batch);
}
