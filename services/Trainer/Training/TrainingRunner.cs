using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json;
using Ctm.Contracts;
using Ctm.Data.Parsing;
using Ctm.Ml;
using Ctm.ServiceDefaults.Http;
using Ctm.ServiceDefaults.Storage;
using Ctm.Trainer.Extensions;
using Ctm.Trainer.Storage;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Ctm.Trainer.Training;

/// <summary>One training run for a dataset: every open job of the dataset is answered by it.</summary>
public sealed partial class TrainingRunner(
    TrainerDbContext db,
    ITrainingEngine engine,
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

    public async Task RunAsync(string dataset, CancellationToken ct)
    {
        var options = settings.Value;
        var jobs = await db.Jobs.Where(j => j.Dataset == dataset && (j.Status == "pending" || j.Status == "running")).OrderBy(j => j.CreatedAt).ToListAsync(ct);
        if (jobs.Count == 0)
        {
            return;
        }

        foreach (var job in jobs)
        {
            job.Status = "running";
            job.Attempts++;
        }

        await db.SaveChangesAsync(ct);
        var exhausted = jobs.Where(j => j.Attempts > options.MaxAttempts).ToList();
        if (exhausted.Count == jobs.Count)
        {
            foreach (var job in jobs)
            {
                job.Status = "failed";
                job.FinishedAt = clock.GetUtcNow();
            }

            await db.SaveChangesAsync(ct);
            LogGaveUp(dataset, options.MaxAttempts);
            return;
        }

        try
        {
            await TrainAsync(dataset, jobs, options, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogRunFailed(e, dataset, jobs.Max(j => j.Attempts), options.MaxAttempts);
            db.ChangeTracker.Clear();
            var ids = jobs.Select(j => j.Id).ToArray();
            await db.Jobs.Where(j => ids.Contains(j.Id)).ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, "pending").SetProperty(j => j.Error, e.Message), ct);
        }
    }

    private async Task TrainAsync(string dataset, List<TrainingJob> jobs, TrainingSettings options, CancellationToken ct)
    {
        var startedAt = clock.GetUtcNow();
        var batches = await db.Batches.AsNoTracking().Where(b => b.Dataset == dataset && !b.Excluded).OrderBy(b => b.AcceptedAt).ToListAsync(ct);
        if (batches.Count == 0)
        {
            await FinishJobsAsync(jobs, null, "no clean batches to train on", ct);
            return;
        }

        // Train on the newest schema only: a schema change starts a new lineage with a full retrain.
        var schemaVersion = batches.Max(b => b.SchemaVersion);
        batches = [.. batches.Where(b => b.SchemaVersion == schemaVersion)];
        var newest = batches[^1];
        var features = JsonSerializer.Deserialize<List<ColumnSpec>>(newest.Features, Json)!
            .Select(c => new FeatureSpec(c.Name, c.Kind == "numeric" ? FeatureKind.Numeric : FeatureKind.Categorical)).ToList();
        var task = newest.Task switch
        {
            "binary" => ModelTask.BinaryClassification,
            "multiclass" => ModelTask.MulticlassClassification,
            _ => ModelTask.Regression,
        };

        var data = await LoadAsync(batches, features, newest.LabelColumn, task, ct);
        var (parentVersion, warmStart) = await WarmStartAsync(dataset, features, task, jobs, ct);
        var trainingOptions = new TrainingOptions
        {
            Task = task,
            HiddenLayers = options.HiddenLayers,
            Epochs = options.Epochs,
            BatchSize = options.BatchSize,
            LearningRate = options.LearningRate,
            Seed = options.Seed,
            MaxThreads = options.MaxThreads,
        };
        var (train, holdout) = data.RowCount >= 20 && options.HoldoutFraction > 0 ? data.Split(options.HoldoutFraction, options.Seed) : (data, data);

        var runId = NewId.NextGuid();
        var correlationId = jobs[^1].CorrelationId;
        LogStarting(runId, dataset, batches.Count, data.RowCount, parentVersion);
        var progress = new ProgressPublisher(bus, runId, dataset, correlationId, clock);
        var model = await Task.Run(() => engine.Train(train, trainingOptions, warmStart, progress, ct), ct);
        await progress.CompleteAsync(model, ct);

        var metrics = Evaluator.Evaluate(model, holdout);
        var artifact = model.ToOnnx(new OnnxExportOptions
        {
            GraphName = dataset,
            Metadata = new Dictionary<string, string> { ["ctm.dataset"] = dataset, ["ctm.run"] = runId.ToString() },
        });
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(artifact));
        var finishedAt = clock.GetUtcNow();
        var parameters = new Dictionary<string, string>
        {
            ["hiddenLayers"] = string.Join(",", options.HiddenLayers),
            ["epochs"] = options.Epochs.ToString(CultureInfo.InvariantCulture),
            ["batchSize"] = options.BatchSize.ToString(CultureInfo.InvariantCulture),
            ["learningRate"] = options.LearningRate.ToString(CultureInfo.InvariantCulture),
            ["holdoutFraction"] = options.HoldoutFraction.ToString(CultureInfo.InvariantCulture),
            ["warmStart"] = (warmStart is not null).ToString(),
            ["trainRows"] = train.RowCount.ToString(CultureInfo.InvariantCulture),
        };
        var overall = Flatten(metrics.Overall);

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var batchIds = batches.Select(b => b.BatchId).ToArray();
        // A batch quarantined while we trained must not reach a model: drop this run, the jobs stay open and run again.
        if (await db.Batches.AnyAsync(b => batchIds.Contains(b.BatchId) && b.Excluded, ct))
        {
            throw new InvalidOperationException("A batch used by this run was excluded while it trained; retraining without it");
        }

        db.Runs.Add(new TrainingRunRecord
        {
            Id = runId,
            Dataset = dataset,
            ParentVersion = parentVersion,
            BatchIds = batchIds,
            SchemaVersion = schemaVersion,
            State = model.State.ToBytes(),
            Artifact = artifact,
            Sha256 = sha256,
            Metrics = JsonSerializer.Serialize(metrics, Json),
            LossCurve = JsonSerializer.Serialize(model.LossCurve, Json),
            Parameters = JsonSerializer.Serialize(parameters, Json),
            StartedAt = startedAt,
            FinishedAt = finishedAt,
            SamplesPerSecond = model.SamplesPerSecond,
        });
        await db.SaveChangesAsync(ct);
        await db.EnqueueAsync(new ModelTrained
        {
            RunId = runId,
            Dataset = dataset,
            CorrelationId = correlationId,
            BatchIds = batchIds,
            ParentVersion = parentVersion,
            SchemaVersion = schemaVersion,
            Task = newest.Task,
            ArtifactLocation = new Uri(ServiceUrls.Require(urls.Value.Trainer, "Trainer"), $"v1/runs/{runId}/artifact").ToString(),
            ArtifactSha256 = sha256,
            ArtifactSize = artifact.LongLength,
            Metrics = overall,
            SliceMetrics = metrics.Slices.ToDictionary(s => $"{s.Feature}={s.Value ?? "(missing)"}", s => (IReadOnlyDictionary<string, double>)Flatten(s.Metrics)),
            Parameters = parameters,
            Engine = engine.Name,
            Device = "cpu",
            Seed = options.Seed,
            CodeVersion = CodeVersion,
            StartedAt = startedAt,
            FinishedAt = finishedAt,
            SamplesPerSecond = model.SamplesPerSecond,
        }, correlationId, ct);
        await FinishJobsAsync(jobs, runId, null, ct);
        await tx.CommitAsync(ct);
        outbox.Notify();
        LogFinished(runId, dataset, JsonSerializer.Serialize(overall, Json));
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

    private async Task<(int? Version, ModelState? State)> WarmStartAsync(string dataset, List<FeatureSpec> features, ModelTask task, List<TrainingJob> jobs, CancellationToken ct)
    {
        if (jobs.Any(j => j.FullRetrain))
        {
            return (null, null);
        }

        var serving = await db.Serving.AsNoTracking().SingleOrDefaultAsync(s => s.Dataset == dataset, ct);
        if (serving?.RunId is not { } runId)
        {
            return (null, null);
        }

        var parent = await db.Runs.AsNoTracking().Where(r => r.Id == runId).Select(r => r.State).SingleOrDefaultAsync(ct);
        if (parent is null)
        {
            return (null, null);
        }

        var state = ModelState.FromBytes(parent);
        // Same features and task: continue from the parent. Otherwise the parent cannot be warm-started from.
        var compatible = state.Task == task && state.Features.SequenceEqual(features);
        return compatible ? (serving.Version, state) : (null, null);
    }

    private async Task<TabularDataset> LoadAsync(List<AcceptedBatch> batches, List<FeatureSpec> features, string label, ModelTask task, CancellationToken ct)
    {
        using var client = http.CreateClient(HttpExtensions.ClientName);
        var rows = new List<string?[]>();
        foreach (var batch in batches)
        {
            var bytes = await client.GetByteArrayAsync(batch.Location, ct);
            var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
            if (!string.Equals(sha, batch.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidDataException($"The rows of batch {batch.BatchId} at {batch.Location} have SHA-256 {sha}, not {batch.Sha256}");
            }

            using var stream = new MemoryStream(bytes, writable: false);
            var table = TabularBatch.ReadCsv(stream, batch.Location);
            var indices = features.Select(f => table.IndexOf(f.Name)).Append(table.IndexOf(label)).ToArray();
            foreach (var row in table.Rows)
            {
                rows.Add([.. indices.Select(i => i < 0 ? null : row[i])]);
            }
        }

        return TabularDataset.FromRows(features, label, task, rows);
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId}: training {Dataset} on {Batches} batches ({Rows} rows), warm start from v{Parent}")]
    private partial void LogStarting(Guid runId, string dataset, int batches, int rows, int? parent);

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId} of {Dataset} finished: {Metrics}")]
    private partial void LogFinished(Guid runId, string dataset, string metrics);

    [LoggerMessage(Level = LogLevel.Error, Message = "Training {Dataset} failed (attempt {Attempt} of {MaxAttempts}); its jobs stay open")]
    private partial void LogRunFailed(Exception error, string dataset, int attempt, int maxAttempts);

    [LoggerMessage(Level = LogLevel.Error, Message = "Training {Dataset} failed {MaxAttempts} times; its jobs are marked failed")]
    private partial void LogGaveUp(string dataset, int maxAttempts);
}
