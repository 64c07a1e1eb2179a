using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json;
using Ctm.Contracts;
using Ctm.Ml;
using Ctm.Ml.Continual;
using Ctm.Ml.Engine;
using Ctm.ServiceDefaults.Http;
using Ctm.ServiceDefaults.Storage;
using Ctm.ServiceDefaults.Telemetry;
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
    IOptions<TrainerOptions> settings,
    IOptions<ServiceUrls> urls,
    TimeProvider clock,
    ILogger<TrainingRunner> logger)
{
    private static readonly string CodeVersion =
        typeof(TrainingRunner).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>Runs the dataset once if a run is due.</summary>
    /// <returns>True when a run finished or gave up (another may be due at once, e.g. a backlog of batches).</returns>
    public async Task<bool> RunAsync(string dataset, CancellationToken ct)
    {
        var options = settings.Value;
        var policy = TrainingPolicy.From(await db.Policies.AsNoTracking().SingleOrDefaultAsync(p => p.Dataset == dataset, ct));
        var openJobs = await db.Jobs.AsNoTracking().Where(j => j.Dataset == dataset && (j.Status == JobStatus.Pending || j.Status == JobStatus.Running)).ToListAsync(ct);
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
            return new OpenJob(j.Id, j.Status == JobStatus.Running, b?.Seq, b?.RowCount ?? 0, b?.Excluded ?? false, j.CutoffSeq, j.CreatedAt);
        }).ToList();
        var plan = RunPlanner.Plan(policy, open, newestSeq, lastRunAt, clock.GetUtcNow());
        if (plan is null)
        {
            return false;
        }

        var jobs = await db.Jobs.Where(j => plan.JobIds.Contains(j.Id)).OrderBy(j => j.CreatedAt).ToListAsync(ct);
        foreach (var job in jobs)
        {
            job.Status = JobStatus.Running;
            job.Attempts++;
            job.CutoffSeq = plan.CutoffSeq;
        }

        await db.SaveChangesAsync(ct);
        if (jobs.All(j => j.Attempts > options.MaxAttempts))
        {
            foreach (var job in jobs)
            {
                job.Status = JobStatus.Failed;
                job.FinishedAt = clock.GetUtcNow();
            }

            await db.SaveChangesAsync(ct);
            LogGaveUp(dataset, options.MaxAttempts);
            return true;
        }

        // The run continues the trace of its newest trigger and links the others.
        using var activity = CtmTelemetry.StartContinuation("train " + dataset, jobs.LastOrDefault(j => j.TraceParent is not null)?.TraceParent, links: jobs.Select(j => j.TraceParent));
        var started = Stopwatch.GetTimestamp();
        try
        {
            await TrainAsync(dataset, jobs, plan, policy, options, ct);
            TrainerMetrics.RecordRun(dataset, "trained", started);
        }
        catch (Exception e) when (e is not OperationCanceledException && RunFailure.IsDeterministic(e))
        {
            TrainerMetrics.RecordRun(dataset, "failed", started);
            // Trying again cannot help: record why, free every job the failure does not concern, and go on.
            db.ChangeTracker.Clear();
            await FailDeterministicallyAsync(dataset, jobs, e, ct);
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            TrainerMetrics.RecordRun(dataset, "retry", started);
            LogRunFailed(e, dataset, jobs.Max(j => j.Attempts), options.MaxAttempts);
            db.ChangeTracker.Clear();
            var ids = jobs.Select(j => j.Id).ToArray();
            await db.Jobs.Where(j => ids.Contains(j.Id)).ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, JobStatus.Pending).SetProperty(j => j.Error, e.Message), ct);
            return false; // retried at the next poll, not at once
        }

        return true;
    }

    /// <summary>
    /// A run that cannot succeed as asked: a request naming a version that cannot be used fails alone (the batch jobs
    /// run again at once without it); a batch whose rows cannot be trained on is set aside (excluded, with the
    /// reason) so later runs skip it; anything else fails the run's jobs, recorded, and later batches start afresh.
    /// </summary>
    private async Task FailDeterministicallyAsync(string dataset, List<TrainingJob> jobs, Exception e, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var ids = jobs.Select(j => j.Id).ToArray();
        switch (e)
        {
            case UnusableParentException bad:
                LogRequestFailed(dataset, bad.Message);
                await db.Jobs.Where(j => ids.Contains(j.Id) && j.FromVersion == bad.Version)
                    .ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, JobStatus.Failed).SetProperty(j => j.Error, bad.Message).SetProperty(j => j.FinishedAt, now), ct);
                await db.Jobs.Where(j => ids.Contains(j.Id) && j.FromVersion != bad.Version)
                    .ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, JobStatus.Pending).SetProperty(j => j.Attempts, j => j.Attempts - 1), ct);
                return;
            case UnusableBatchException batch:
                LogBatchSetAside(dataset, batch.BatchId, batch.Message);
                await db.Batches.Where(b => b.BatchId == batch.BatchId)
                    .ExecuteUpdateAsync(s => s.SetProperty(b => b.Excluded, true).SetProperty(b => b.ExcludedReason, "unusable for training: " + batch.Message), ct);
                await db.Jobs.Where(j => ids.Contains(j.Id) && j.BatchId == batch.BatchId)
                    .ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, JobStatus.Failed).SetProperty(j => j.Error, batch.Message).SetProperty(j => j.FinishedAt, now), ct);
                await db.Jobs.Where(j => ids.Contains(j.Id) && j.BatchId != batch.BatchId)
                    .ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, JobStatus.Pending).SetProperty(j => j.Attempts, j => j.Attempts - 1), ct);
                return;
            default:
                LogRunFailedForGood(e, dataset);
                await db.Jobs.Where(j => ids.Contains(j.Id))
                    .ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, JobStatus.Failed).SetProperty(j => j.Error, "cannot succeed as asked: " + e.Message).SetProperty(j => j.FinishedAt, now), ct);
                return;
        }
    }

    private async Task TrainAsync(string dataset, List<TrainingJob> jobs, RunPlan plan, TrainingPolicy policy, TrainerOptions options, CancellationToken ct)
    {
        var startedAt = clock.GetUtcNow();
        var set = await loader.LoadAsync(dataset, plan.CutoffSeq, policy, ct);
        if (set is null)
        {
            await FinishJobsAsync(jobs, null, "no clean batches to train on", ct);
            return;
        }

        var parent = await WarmStartAsync(dataset, policy, jobs, ct);
        var (parentVersion, parentRunId, warmStart) = (parent.Version, parent.RunId, parent.State);
        var recipeOptions = options.Recipe(set.Task, policy.Epochs, policy.BatchSize);
        var choice = device.Choose(policy, TrainingEngines.StepMultiplyAdds(
            recipeOptions.BatchSize, set.Features.Count, recipeOptions.HiddenLayers, outputs: 1));
        var recipe = new ContinualRecipe(choice.Engine, recipeOptions);
        var (fresh, history, evaluation, heldOut) = set.SplitForRecipe(options.HoldoutFraction, id => !parent.Batches.Contains(id));

        var runId = NewId.NextGuid();
        var correlationId = jobs[^1].CorrelationId;
        LogStarting(runId, dataset, set.Batches.Count, fresh.RowCount + (history?.RowCount ?? 0), heldOut, parentVersion, plan.Reason, set.Window);
        var progress = new ProgressPublisher(bus, runId, dataset, correlationId, clock);
        var seed = unchecked(options.Seed + (int)set.Newest.Seq);
        RecipeResult result;
        try
        {
            result = await Task.Run(() => recipe.Train(fresh, history, warmStart, parent.UpdatesSinceFull, seed, parent.ColdReason, progress, ct, parent.WindowRowsAtFull), ct);
        }
        catch (Exception e) when (warmStart is not null && RunFailure.IsDeterministic(e))
        {
            // The fallback that exists: a fresh model on the same data. If that fails too, the run cannot succeed.
            LogWarmFailed(dataset, parentVersion, e.Message);
            result = await Task.Run(() => recipe.Train(fresh, history, null, 0, seed, $"warm start from v{parentVersion} failed: {e.Message}", progress, ct), ct);
        }

        var model = result.Model;
        if (result.Plan.Full)
        {
            (parentVersion, parentRunId) = (null, null);
        }

        await progress.CompleteAsync(model, ct);

        var metrics = Evaluator.Evaluate(model, evaluation);
        var overall = Flatten(metrics.Overall);
        var (baselineVersion, baseline, newClasses) = heldOut > 0 ? await BaselineAsync(dataset, set, evaluation, model, ct) : (null, null, null);
        var artifact = model.ToOnnx(new OnnxExportOptions
        {
            GraphName = dataset,
            Metadata = new Dictionary<string, string> { ["ctm.dataset"] = dataset, ["ctm.run"] = runId.ToString() },
        });
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(artifact));
        var finishedAt = clock.GetUtcNow();
        var trainedSamples = result.TrainedSamples;
        var mode = result.Plan.Full ? "full" : "warm-update";
        var parameters = new Dictionary<string, string>
        {
            ["hiddenLayers"] = string.Join(",", model.State.HiddenLayers),
            ["mode"] = mode,
            ["modeReason"] = result.Plan.Reason,
            ["trainedSamples"] = trainedSamples.ToString(CultureInfo.InvariantCulture),
            ["updatesSinceFull"] = result.UpdatesSinceFull.ToString(CultureInfo.InvariantCulture),
            ["windowRowsAtFull"] = result.WindowRowsAtFull.ToString(CultureInfo.InvariantCulture),
            ["epochs"] = (result.Plan.Full ? recipeOptions.FullEpochs : recipeOptions.UpdateEpochs).ToString(CultureInfo.InvariantCulture),
            ["epochsRun"] = model.LossCurve.Count.ToString(CultureInfo.InvariantCulture),
            ["bestEpoch"] = model.BestEpoch.ToString(CultureInfo.InvariantCulture),
            ["batchSize"] = recipeOptions.BatchSize.ToString(CultureInfo.InvariantCulture),
            ["learningRate"] = (result.Plan.Full ? recipeOptions.FullLearningRate : recipeOptions.UpdateLearningRate).ToString(CultureInfo.InvariantCulture),
            ["schedule"] = "cosine",
            ["weightDecay"] = recipeOptions.WeightDecay.ToString(CultureInfo.InvariantCulture),
            ["holdoutFraction"] = options.HoldoutFraction.ToString(CultureInfo.InvariantCulture),
            ["warmStart"] = (!result.Plan.Full).ToString(),
            ["trainRows"] = result.TrainRows.ToString(CultureInfo.InvariantCulture),
            ["replayRows"] = result.ReplayRows.ToString(CultureInfo.InvariantCulture),
            ["validationRows"] = result.ValidationRows.ToString(CultureInfo.InvariantCulture),
            ["evaluation"] = heldOut > 0 ? $"newest {heldOut} rows of batch {set.Newest.BatchId}" : "training rows (too few rows to hold any out)",
            ["window"] = set.Window,
            ["trigger"] = plan.Reason,
        };
        if (result.Plan.Fresh is { } freshReason)
        {
            parameters["fresh"] = freshReason;
        }

        if (newClasses is { Count: > 0 })
        {
            parameters["newClasses"] = string.Join(",", newClasses);
        }

        if (model.Calibration is { } calibration)
        {
            parameters["calibration"] = string.Create(CultureInfo.InvariantCulture, $"scale {calibration.Scale:0.####}, shift {calibration.Shift:0.####}; validation log loss {calibration.LogLossBefore:0.####} -> {calibration.LogLossAfter:0.####}");
        }

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
            Metrics = JsonSerializer.Serialize(metrics, JsonSerializerOptions.Web),
            LossCurve = JsonSerializer.Serialize(model.LossCurve, JsonSerializerOptions.Web),
            Parameters = JsonSerializer.Serialize(parameters, JsonSerializerOptions.Web),
            StartedAt = startedAt,
            FinishedAt = finishedAt,
            SamplesPerSecond = model.SamplesPerSecond,
            BaselineVersion = baselineVersion,
            BaselineMetrics = baseline is null ? null : JsonSerializer.Serialize(baseline, JsonSerializerOptions.Web),
            Device = choice.Device,
            Engine = choice.Engine.Name,
            HoldoutBatchId = heldOut > 0 ? set.Newest.BatchId : null,
            WindowDescription = set.Window,
            TrainedSamples = trainedSamples,
            Mode = mode,
            ModeReason = result.Plan.Reason,
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
            Task = set.TaskKind,
            ArtifactLocation = new Uri(ServiceUrls.Require(urls.Value.Trainer, "Trainer"), $"v1/runs/{runId}/artifact").ToString(),
            ArtifactSha256 = sha256,
            ArtifactSize = artifact.LongLength,
            Metrics = overall,
            BaselineMetrics = baseline,
            BaselineVersion = baselineVersion,
            SliceMetrics = metrics.Slices.ToDictionary(s => $"{s.Feature}={s.Value ?? "(missing)"}", s => (IReadOnlyDictionary<string, double>)Flatten(s.Metrics)),
            Parameters = parameters,
            Engine = choice.Engine.Name,
            Device = choice.Device,
            Seed = options.Seed,
            CodeVersion = CodeVersion,
            StartedAt = startedAt,
            FinishedAt = finishedAt,
            SamplesPerSecond = model.SamplesPerSecond,
        }, correlationId, ct);
        await FinishJobsAsync(jobs, runId, null, ct);
        await tx.CommitAsync(ct);
        outbox.Notify();
        LogFinished(runId, dataset, JsonSerializer.Serialize(overall, JsonSerializerOptions.Web), baselineVersion, baseline is null ? "none" : JsonSerializer.Serialize(baseline, JsonSerializerOptions.Web));
    }

    private async Task FinishJobsAsync(List<TrainingJob> jobs, Guid? runId, string? note, CancellationToken ct)
    {
        foreach (var job in jobs)
        {
            job.Status = JobStatus.Done;
            job.RunId = runId;
            job.Error = note;
            job.FinishedAt = clock.GetUtcNow();
        }

        await db.SaveChangesAsync(ct);
    }

    /// <summary>The run's parent, the batches it trained on, its warm chain's length, or why the run starts cold.</summary>
    private sealed record Parent(int? Version, Guid? RunId, ModelState? State, IReadOnlySet<Guid> Batches, int UpdatesSinceFull, long WindowRowsAtFull, string? ColdReason)
    {
        public static Parent Cold(string? reason) => new(null, null, null, new HashSet<Guid>(), 0, 0, reason);
    }

    /// <summary>
    /// The parent: the version a request names, else the serving version when the policy warm-starts. A full retrain
    /// (requested, or it or an ancestor trained on a batch excluded since) starts cold with its reason; whether the
    /// data still fits the parent (features, classes) the recipe decides.
    /// </summary>
    private async Task<Parent> WarmStartAsync(string dataset, TrainingPolicy policy, List<TrainingJob> jobs, CancellationToken ct)
    {
        if (jobs.Any(j => j.FullRetrain))
        {
            return Parent.Cold("full retrain requested");
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
            return Parent.Cold(policy.WarmStart ? null : "the policy does not warm-start");
        }

        var parent = await db.Runs.AsNoTracking().Where(r => r.Id == runId).Select(r => new { r.State, r.BatchIds, r.Parameters }).SingleOrDefaultAsync(ct);
        if (parent is null)
        {
            return Parent.Cold(null);
        }

        if (await ExcludedInLineageAsync(runId, ct) is { } excluded)
        {
            LogColdBecauseExcluded(dataset, version, excluded);
            return Parent.Cold($"v{version} (or a warm-start ancestor) trained on batch {excluded}, excluded since");
        }

        int updates = 0;
        long rowsAtFull = 0;
        using (var parameters = JsonDocument.Parse(parent.Parameters))
        {
            if (parameters.RootElement.TryGetProperty("updatesSinceFull", out var u) && int.TryParse(u.GetString(), CultureInfo.InvariantCulture, out var n))
            {
                updates = n;
            }

            if (parameters.RootElement.TryGetProperty("windowRowsAtFull", out var w) && long.TryParse(w.GetString(), CultureInfo.InvariantCulture, out var m))
            {
                rowsAtFull = m;
            }
        }

        return new Parent(version, runId, ModelState.FromBytes(parent.State), parent.BatchIds.ToHashSet(), updates, rowsAtFull, null);
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

    /// <summary>
    /// The serving version, loaded from its run's state, on the same held-out rows (null when it cannot be), with the
    /// standard error of the per-row log-loss difference (candidate − serving) for the promotion gate, and the
    /// candidate's classes the serving version cannot predict.
    /// </summary>
    private async Task<(int? Version, Dictionary<string, double>? Metrics, List<string>? NewClasses)> BaselineAsync(
        string dataset, TrainingSet set, TabularDataset evaluation, TrainedModel candidate, CancellationToken ct)
    {
        var serving = await db.Serving.AsNoTracking().SingleOrDefaultAsync(s => s.Dataset == dataset, ct);
        if (serving?.RunId is not { } runId)
        {
            return (null, null, null);
        }

        var bytes = await db.Runs.AsNoTracking().Where(r => r.Id == runId).Select(r => r.State).SingleOrDefaultAsync(ct);
        if (bytes is null)
        {
            return (null, null, null);
        }

        var state = ModelState.FromBytes(bytes);
        var newClasses = candidate.Classes.Except(state.Classes, StringComparer.Ordinal).ToList();
        if (state.Task != set.Task || !state.Features.SequenceEqual(set.Features))
        {
            LogBaselineIncompatible(dataset, serving.Version);
            return (null, null, newClasses);
        }

        var predictions = TrainedModel.FromState(state).Predict(evaluation);
        var metrics = Flatten(Evaluator.Evaluate(predictions, evaluation).Overall);
        if (set.Task != ModelTask.Regression && PairedLogLossError(candidate.Predict(evaluation), predictions, evaluation) is { } se)
        {
            metrics["log_loss_delta_se"] = se;
        }

        return (serving.Version, metrics, newClasses);
    }

    /// <summary>Standard error of the mean per-row difference in log loss between two models on the same rows.</summary>
    private static double? PairedLogLossError(ModelPredictions a, ModelPredictions b, TabularDataset rows)
    {
        var labels = rows.ClassLabels!;
        if (labels.Length < 2)
        {
            return null;
        }

        static double Loss(ModelPredictions p, int row, string? label)
        {
            var column = label is null ? -1 : p.Classes.ToList().IndexOf(label);
            return -Math.Log(Math.Clamp(column < 0 ? 0 : p.Values[(row * p.Columns) + column], 1e-15, 1));
        }

        var d = Enumerable.Range(0, labels.Length).Select(r => Loss(a, r, labels[r]) - Loss(b, r, labels[r])).ToArray();
        var mean = d.Average();
        var variance = d.Sum(x => (x - mean) * (x - mean)) / (d.Length - 1);
        return Math.Sqrt(variance / d.Length);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Warm-starting {Dataset} from v{Version} failed ({Reason}); training a fresh model instead")]
    private partial void LogWarmFailed(string dataset, int? version, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A retrain request for {Dataset} cannot be served: {Reason}; its job is marked failed, the other jobs run without it")]
    private partial void LogRequestFailed(string dataset, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId} of {Dataset} cannot be trained on ({Reason}); it is set aside and the other jobs run without it")]
    private partial void LogBatchSetAside(string dataset, Guid batchId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Training {Dataset} cannot succeed as asked; its jobs are marked failed without retrying, later batches train afresh")]
    private partial void LogRunFailedForGood(Exception error, string dataset);

    [LoggerMessage(Level = LogLevel.Error, Message = "Training {Dataset} failed {MaxAttempts} times; its jobs are marked failed")]
    private partial void LogGaveUp(string dataset, int maxAttempts);
}
