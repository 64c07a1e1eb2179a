using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json;
using Ctm.Contracts;
using Ctm.Ml;
using Ctm.Ml.Continual;
using Ctm.Ml.Engine;
using Ctm.ServiceDefaults.Http;
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
    JobLedger ledger,
    WarmStartResolver warmStarts,
    RunRecorder recorder,
    IBus bus,
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
        var work = await ledger.OpenAsync(dataset, ct);
        var plan = work is null ? null : RunPlanner.Plan(policy, work.Jobs, work.NewestSeq, work.LastRunAt, clock.GetUtcNow());
        if (plan is null)
        {
            return false;
        }

        var jobs = await ledger.TakeAsync(plan, ct);
        if (jobs.All(j => j.Attempts > options.MaxAttempts))
        {
            await ledger.GiveUpAsync(jobs, ct);
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
            await ledger.FailDeterministicallyAsync(dataset, jobs, e, ct);
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            TrainerMetrics.RecordRun(dataset, "retry", started);
            LogRunFailed(e, dataset, jobs.Max(j => j.Attempts), options.MaxAttempts);
            await ledger.ReleaseForRetryAsync(jobs, e, ct);
            return false; // retried at the next poll, not at once
        }

        return true;
    }

    private async Task TrainAsync(string dataset, List<TrainingJob> jobs, RunPlan plan, TrainingPolicy policy, TrainerOptions options, CancellationToken ct)
    {
        var startedAt = clock.GetUtcNow();
        var set = await loader.LoadAsync(dataset, plan.CutoffSeq, policy, ct);
        if (set is null)
        {
            await ledger.FinishAsync(jobs, null, "no clean batches to train on", ct);
            return;
        }

        var parent = await warmStarts.ResolveAsync(dataset, policy, jobs, ct);
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
            result = await Task.Run(() => recipe.Train(fresh, history, warmStart, parent.UpdatesSinceFull, seed, parent.ColdReason, progress, parent.WindowRowsAtFull, ct), ct);
        }
        catch (Exception e) when (warmStart is not null && RunFailure.IsDeterministic(e))
        {
            // The fallback that exists: a fresh model on the same data. If that fails too, the run cannot succeed.
            LogWarmFailed(dataset, parentVersion, e.Message);
            result = await Task.Run(() => recipe.Train(fresh, history, null, 0, seed, $"warm start from v{parentVersion} failed: {e.Message}", progress, cancellationToken: ct), ct);
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

        var run = new TrainingRunRecord
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
            Metrics = metrics,
            LossCurve = [.. model.LossCurve],
            Parameters = parameters,
            StartedAt = startedAt,
            FinishedAt = finishedAt,
            SamplesPerSecond = model.SamplesPerSecond,
            BaselineVersion = baselineVersion,
            BaselineMetrics = baseline,
            Device = choice.Device,
            Engine = choice.Engine.Name,
            HoldoutBatchId = heldOut > 0 ? set.Newest.BatchId : null,
            WindowDescription = set.Window,
            TrainedSamples = trainedSamples,
            Mode = mode,
            ModeReason = result.Plan.Reason,
        };
        var trained = new ModelTrained
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
        };
        await recorder.RecordAsync(run, trained, jobs, ct);
        LogFinished(runId, dataset, JsonSerializer.Serialize(overall, JsonSerializerOptions.Web), baselineVersion, baseline is null ? "none" : JsonSerializer.Serialize(baseline, JsonSerializerOptions.Web));
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

    [LoggerMessage(Level = LogLevel.Information, Message = "The serving version v{Version} of {Dataset} has other features or another task; no baseline")]
    private partial void LogBaselineIncompatible(string dataset, int version);

    [LoggerMessage(Level = LogLevel.Error, Message = "Training {Dataset} failed (attempt {Attempt} of {MaxAttempts}); its jobs stay open")]
    private partial void LogRunFailed(Exception error, string dataset, int attempt, int maxAttempts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Warm-starting {Dataset} from v{Version} failed ({Reason}); training a fresh model instead")]
    private partial void LogWarmFailed(string dataset, int? version, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Training {Dataset} failed {MaxAttempts} times; its jobs are marked failed")]
    private partial void LogGaveUp(string dataset, int maxAttempts);
}
