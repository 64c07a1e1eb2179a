using System.Globalization;
using System.Net;
using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json;
using Ctm.Contracts;
using Ctm.Ml;
using Ctm.ServiceDefaults.Http;
using Ctm.ServiceDefaults.Storage;
using Ctm.Trainer.Extensions;
using Ctm.Trainer.Policies;
using Ctm.Trainer.Storage;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Ctm.Trainer.Training;

/// <summary>
/// One training run for a dataset, when its policy says one is due: it answers the jobs the plan took, trains on the
/// clean batches up to the plan's cut-off (in the policy's window), and judges the model and the serving version on
/// the same fresh rows.
/// </summary>
public sealed partial class TrainingRunner(
    TrainerDbContext db,
    TrainingDevice device,
    TrainingDataLoader loader,
    IHttpClientFactory http,
    IBus bus,
    OutboxSignal outbox,
    IOptions<TrainingSettings> settings,
    IOptions<ServiceUrls> urls,
    TimeProvider clock,
    ILogger<TrainingRunner> logger)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly string CodeVersion =
        typeof(TrainingRunner).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>Runs the dataset once if a run is due.</summary>
    /// <returns>True when a run finished or gave up (another may be due at once, e.g. a backlog of batches).</returns>
    public async Task<bool> RunAsync(string dataset, CancellationToken ct)
    {
        var options = settings.Value;
        var policy = TrainingPolicy.From(await db.Policies.AsNoTracking().SingleOrDefaultAsync(p => p.Dataset == dataset, ct));
        var openJobs = await db.Jobs.AsNoTracking().Where(j => j.Dataset == dataset && (j.Status == "pending" || j.Status == "running")).ToListAsync(ct);
        if (openJobs.Count == 0)
        {
            return false;
        }

        var batchIds = openJobs.Where(j => j.BatchId is not null).Select(j => j.BatchId!.Value).ToList();
        var batches = await db.Batches.AsNoTracking().Where(b => batchIds.Contains(b.BatchId))
            .Select(b => new { b.BatchId, b.Seq, b.RowCount, b.Excluded }).ToDictionaryAsync(b => b.BatchId, ct);
        var newestSeq = await db.Batches.Where(b => b.Dataset == dataset).MaxAsync(b => (long?)b.Seq, ct) ?? 0;
        var lastRunAt = await db.Runs.Where(r => r.Dataset == dataset).MaxAsync(r => (DateTimeOffset?)r.FinishedAt, ct);
        var open = openJobs.Select(j =>
        {
            var b = j.BatchId is { } id && batches.TryGetValue(id, out var found) ? found : null;
            return new OpenJob(j.Id, j.Status == "running", b?.Seq, b?.RowCount ?? 0, b?.Excluded ?? false, j.CutoffSeq, j.CreatedAt);
        }).ToList();
        var plan = RunPlanner.Plan(policy, open, newestSeq, lastRunAt, clock.GetUtcNow());
        if (plan is null)
        {
            return false;
        }

        var jobs = await db.Jobs.Where(j => plan.JobIds.Contains(j.Id)).OrderBy(j => j.CreatedAt).ToListAsync(ct);
        foreach (var job in jobs)
        {
            job.Status = "running";
            job.Attempts++;
            job.CutoffSeq = plan.CutoffSeq;
        }

        await db.SaveChangesAsync(ct);
        if (jobs.All(j => j.Attempts > options.MaxAttempts))
        {
            foreach (var job in jobs)
            {
                job.Status = "failed";
                job.FinishedAt = clock.GetUtcNow();
            }

            await db.SaveChangesAsync(ct);
            LogGaveUp(dataset, options.MaxAttempts);
            return true;
        }

        try
        {
            await TrainAsync(dataset, jobs, plan, policy, options, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogRunFailed(e, dataset, jobs.Max(j => j.Attempts), options.MaxAttempts);
            db.ChangeTracker.Clear();
            var ids = jobs.Select(j => j.Id).ToArray();
            await db.Jobs.Where(j => ids.Contains(j.Id)).ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, "pending").SetProperty(j => j.Error, e.Message), ct);
            return false; // retried at the next poll, not at once
        }

        return true;
    }

    private async Task TrainAsync(string dataset, List<TrainingJob> jobs, RunPlan plan, TrainingPolicy policy, TrainingSettings options, CancellationToken ct)
    {
        var startedAt = clock.GetUtcNow();
        var set = await loader.LoadAsync(dataset, plan.CutoffSeq, policy, ct);
        if (set is null)
        {
            await FinishJobsAsync(jobs, null, "no clean batches to train on", ct);
            return;
        }

        var (parentVersion, parentRunId, warmStart) = await WarmStartAsync(dataset, set, policy, jobs, ct);
        var trainingOptions = new TrainingOptions
        {
            Task = set.Task,
            HiddenLayers = options.HiddenLayers,
            Epochs = policy.Epochs ?? options.Epochs,
            BatchSize = policy.BatchSize ?? options.BatchSize,
            LearningRate = options.LearningRate,
            Seed = options.Seed,
            MaxThreads = options.MaxThreads,
        };
        var (train, evaluation, heldOut) = set.Split(options.HoldoutFraction);

        var runId = NewId.NextGuid();
        var correlationId = jobs[^1].CorrelationId;
        LogStarting(runId, dataset, set.Batches.Count, train.RowCount, heldOut, parentVersion, plan.Reason, set.Window);
        var progress = new ProgressPublisher(bus, runId, dataset, correlationId, clock);
        var model = await Task.Run(() => device.Engine.Train(train, trainingOptions, warmStart, progress, ct), ct);
        await progress.CompleteAsync(model, ct);

        var metrics = Evaluator.Evaluate(model, evaluation);
        var overall = Flatten(metrics.Overall);
        var (baselineVersion, baseline) = heldOut > 0 ? await BaselineAsync(dataset, set, evaluation, ct) : (null, null);
        var artifact = model.ToOnnx(new OnnxExportOptions
        {
            GraphName = dataset,
            Metadata = new Dictionary<string, string> { ["ctm.dataset"] = dataset, ["ctm.run"] = runId.ToString() },
        });
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(artifact));
        var finishedAt = clock.GetUtcNow();
        var parameters = new Dictionary<string, string>
        {
            ["hiddenLayers"] = string.Join(",", model.State.HiddenLayers),
            ["epochs"] = trainingOptions.Epochs.ToString(CultureInfo.InvariantCulture),
            ["batchSize"] = trainingOptions.BatchSize.ToString(CultureInfo.InvariantCulture),
            ["learningRate"] = options.LearningRate.ToString(CultureInfo.InvariantCulture),
            ["holdoutFraction"] = options.HoldoutFraction.ToString(CultureInfo.InvariantCulture),
            ["warmStart"] = (warmStart is not null).ToString(),
            ["trainRows"] = train.RowCount.ToString(CultureInfo.InvariantCulture),
            ["evaluation"] = heldOut > 0 ? $"newest {heldOut} rows of batch {set.Newest.BatchId}" : "training rows (too few rows to hold any out)",
            ["window"] = set.Window,
            ["trigger"] = plan.Reason,
        };
        var batchIds = set.Batches.Select(b => b.BatchId).ToArray();

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // A batch quarantined, discarded or declared corrupt while we trained must not reach a model: drop this run;
        // the jobs stay open and run again without it. FOR SHARE reads the latest committed flag and makes a
        // concurrent exclusion wait for this commit (after which the Registry's own rules apply to the version).
        var excluded = await db.Database.SqlQuery<bool>($"SELECT excluded AS \"Value\" FROM trainer.batches WHERE batch_id = ANY({batchIds}) FOR SHARE").ToListAsync(ct);
        if (excluded.Any(x => x))
        {
            throw new InvalidOperationException("A batch used by this run was excluded while it trained; retraining without it");
        }

        db.Runs.Add(new TrainingRunRecord
        {
            Id = runId,
            Dataset = dataset,
            ParentVersion = parentVersion,
            ParentRunId = parentRunId,
            BatchIds = batchIds,
            SchemaVersion = set.SchemaVersion,
            State = model.State.ToBytes(),
            Artifact = artifact,
            Sha256 = sha256,
            Metrics = JsonSerializer.Serialize(metrics, Json),
            LossCurve = JsonSerializer.Serialize(model.LossCurve, Json),
            Parameters = JsonSerializer.Serialize(parameters, Json),
            StartedAt = startedAt,
            FinishedAt = finishedAt,
            SamplesPerSecond = model.SamplesPerSecond,
            BaselineVersion = baselineVersion,
            BaselineMetrics = baseline is null ? null : JsonSerializer.Serialize(baseline, Json),
            Device = device.Name,
            HoldoutBatchId = heldOut > 0 ? set.Newest.BatchId : null,
            WindowDescription = set.Window,
        });
        await db.SaveChangesAsync(ct);
        await db.EnqueueAsync(new ModelTrained
        {
            RunId = runId,
            Dataset = dataset,
            CorrelationId = correlationId,
            BatchIds = batchIds,
            ParentVersion = parentVersion,
            SchemaVersion = set.SchemaVersion,
            Task = set.TaskName,
            ArtifactLocation = new Uri(ServiceUrls.Require(urls.Value.Trainer, "Trainer"), $"v1/runs/{runId}/artifact").ToString(),
            ArtifactSha256 = sha256,
            ArtifactSize = artifact.LongLength,
            Metrics = overall,
            BaselineMetrics = baseline,
            BaselineVersion = baselineVersion,
            SliceMetrics = metrics.Slices.ToDictionary(s => $"{s.Feature}={s.Value ?? "(missing)"}", s => (IReadOnlyDictionary<string, double>)Flatten(s.Metrics)),
            Parameters = parameters,
            Engine = device.Engine.Name,
            Device = device.Name,
            Seed = options.Seed,
            CodeVersion = CodeVersion,
            StartedAt = startedAt,
            FinishedAt = finishedAt,
            SamplesPerSecond = model.SamplesPerSecond,
        }, correlationId, ct);
        await FinishJobsAsync(jobs, runId, null, ct);
        await tx.CommitAsync(ct);
        outbox.Notify();
        LogFinished(runId, dataset, JsonSerializer.Serialize(overall, Json), baselineVersion, baseline is null ? "none" : JsonSerializer.Serialize(baseline, Json));
    }

    private async Task FinishJobsAsync(List<TrainingJob> jobs, Guid? runId, string? note, CancellationToken ct)
    {
        foreach (var job in jobs)
        {
            job.Status = "done";
            job.RunId = runId;
            job.Error = note;
            job.FinishedAt = clock.GetUtcNow();
        }

        await db.SaveChangesAsync(ct);
    }

    /// <summary>
    /// The parent: the version a request names, else the serving version when the policy warm-starts. A full retrain
    /// (requested, or the parent is of another schema or other features, or it or an ancestor trained on a batch
    /// excluded since) starts cold.
    /// </summary>
    private async Task<(int? Version, Guid? RunId, ModelState? State)> WarmStartAsync(string dataset, TrainingSet set, TrainingPolicy policy, List<TrainingJob> jobs, CancellationToken ct)
    {
        if (jobs.Any(j => j.FullRetrain))
        {
            return (null, null, null);
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
            return (null, null, null);
        }

        // Same features and task (checked below) is what warm start needs; a schema version that only relaxed
        // domains or ranges does not break it.
        var parent = await db.Runs.AsNoTracking().Where(r => r.Id == runId).Select(r => new { r.State }).SingleOrDefaultAsync(ct);
        if (parent is null)
        {
            return (null, null, null);
        }

        if (await ExcludedInLineageAsync(runId, ct) is { } excluded)
        {
            LogColdBecauseExcluded(dataset, version, excluded);
            return (null, null, null);
        }

        var state = ModelState.FromBytes(parent.State);
        var compatible = state.Task == set.Task && state.Features.SequenceEqual(set.Features);
        return compatible ? (version, runId, state) : (null, null, null);
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
            throw new InvalidOperationException($"Retrain from version {version} of {dataset}: the Registry has no such version");
        }

        var body = await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>(ct);
        return body.TryGetProperty("runId", out var run) && run.ValueKind == JsonValueKind.String
            ? run.GetGuid()
            : throw new InvalidOperationException($"Retrain from version {version} of {dataset}: it was not trained here (no run id)");
    }

    /// <summary>The serving version, loaded from its run's state, on the same held-out rows; null when it cannot be.</summary>
    private async Task<(int? Version, Dictionary<string, double>? Metrics)> BaselineAsync(string dataset, TrainingSet set, TabularDataset evaluation, CancellationToken ct)
    {
        var serving = await db.Serving.AsNoTracking().SingleOrDefaultAsync(s => s.Dataset == dataset, ct);
        if (serving?.RunId is not { } runId)
        {
            return (null, null);
        }

        var bytes = await db.Runs.AsNoTracking().Where(r => r.Id == runId).Select(r => r.State).SingleOrDefaultAsync(ct);
        if (bytes is null)
        {
            return (null, null);
        }

        var state = ModelState.FromBytes(bytes);
        if (state.Task != set.Task || !state.Features.SequenceEqual(set.Features))
        {
            LogBaselineIncompatible(dataset, serving.Version);
            return (null, null);
        }

        return (serving.Version, Flatten(Evaluator.Evaluate(TrainedModel.FromState(state), evaluation).Overall));
    }

    private static Dictionary<string, double> Flatten(MetricValues m)
    {
        var d = new Dictionary<string, double> { ["rows"] = m.Count };
        void Put(string name, double? value)
        {
            if (value is { } v && double.IsFinite(v))
            {
                d[name] = v;
            }
        }

        Put("accuracy", m.Accuracy);
        Put("log_loss", m.LogLoss);
        Put("roc_auc", m.RocAuc);
        Put("macro_f1", m.MacroF1);
        Put("rmse", m.Rmse);
        Put("mae", m.Mae);
        return d;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId}: training {Dataset} on {Batches} batches ({Rows} rows, {HeldOut} held out), parent version {Parent}; trigger {Trigger}, window {Window}")]
    private partial void LogStarting(Guid runId, string dataset, int batches, int rows, int heldOut, int? parent, string trigger, string window);

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId} of {Dataset} finished: {Metrics}; serving v{BaselineVersion} on the same rows: {Baseline}")]
    private partial void LogFinished(Guid runId, string dataset, string metrics, int? baselineVersion, string baseline);

    [LoggerMessage(Level = LogLevel.Information, Message = "Not warm-starting {Dataset} from v{Version}: it (or a warm-start ancestor) trained on batch {Batch}, excluded since; training from scratch")]
    private partial void LogColdBecauseExcluded(string dataset, int version, Guid batch);

    [LoggerMessage(Level = LogLevel.Information, Message = "The serving version v{Version} of {Dataset} has other features or another task; no baseline")]
    private partial void LogBaselineIncompatible(string dataset, int version);

    [LoggerMessage(Level = LogLevel.Error, Message = "Training {Dataset} failed (attempt {Attempt} of {MaxAttempts}); its jobs stay open")]
    private partial void LogRunFailed(Exception error, string dataset, int attempt, int maxAttempts);

    [LoggerMessage(Level = LogLevel.Error, Message = "Training {Dataset} failed {MaxAttempts} times; its jobs are marked failed")]
    private partial void LogGaveUp(string dataset, int maxAttempts);
}
