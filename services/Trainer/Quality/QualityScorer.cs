using Ctm.Contracts;
using Ctm.Ml;
using Ctm.ServiceDefaults.Storage;
using Ctm.Trainer.Extensions;
using Ctm.Trainer.Policies;
using Ctm.Trainer.Storage;
using Ctm.Trainer.Training;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Ctm.Trainer.Quality;

/// <summary>
/// Scores each labeled accepted batch with the version that served when the batch arrived (recorded then, so the
/// version cannot have trained on it: test-then-train), stores the point of the dataset's quality series, and raises
/// <see cref="ModelQualityDegraded"/> / <see cref="PredictionDriftDetected"/> through the outbox in the same
/// transaction; with the policy's <c>retrainOnQualityAlert</c>, a quality alarm also records a retrain job.
/// </summary>
public sealed partial class QualityScorer(
    TrainerDbContext db,
    TrainingDataLoader loader,
    OutboxSignal outbox,
    TrainingSignal signal,
    IOptions<QualityOptions> settings,
    TimeProvider clock,
    ILogger<QualityScorer> logger)
{
    private const int MaxAttempts = 3;

    /// <summary>Scores the dataset's waiting batches, oldest first. A batch that fails is retried at the next poll, up to three times.</summary>
    public async Task ScorePendingAsync(string dataset, CancellationToken ct)
    {
        if (!settings.Value.Enabled)
        {
            return;
        }

        var pending = await db.QualityPending.AsNoTracking()
            .Where(p => p.Dataset == dataset && p.Attempts < MaxAttempts)
            .Join(db.Batches, p => p.BatchId, b => b.BatchId, (p, b) => new { p, b.Seq })
            .OrderBy(x => x.Seq)
            .Select(x => new Pending(x.p.BatchId, x.p.Version, x.p.RunId, x.p.CorrelationId))
            .ToListAsync(ct);
        foreach (var p in pending)
        {
            try
            {
                await ScoreAsync(dataset, p, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogScoringFailed(e, dataset, p.BatchId, p.Version);
                db.ChangeTracker.Clear();
                await db.Database.ExecuteSqlAsync($"UPDATE trainer.quality_pending SET attempts = attempts + 1, error = {e.Message} WHERE batch_id = {p.BatchId}", ct);
            }
        }
    }

    private async Task ScoreAsync(string dataset, Pending p, CancellationToken ct)
    {
        var options = settings.Value;
        var batch = await db.Batches.AsNoTracking().SingleOrDefaultAsync(b => b.BatchId == p.BatchId, ct);
        var stateBytes = await db.Runs.AsNoTracking().Where(r => r.Id == p.RunId).Select(r => r.State).SingleOrDefaultAsync(ct);
        if (batch is null || stateBytes is null)
        {
            await DropAsync(dataset, p, "the batch or the serving version's run is not known here", ct);
            return;
        }

        var state = ModelState.FromBytes(stateBytes);
        if (batch.Task.ToModelTask() != state.Task || batch.LabelColumn != state.LabelName)
        {
            await DropAsync(dataset, p, $"v{p.Version} predicts {state.LabelName} ({state.Task}), the batch is labeled {batch.LabelColumn} ({EnumText<TaskKind>.Name(batch.Task)})", ct);
            return;
        }

        TabularDataset data;
        try
        {
            data = await loader.LoadBatchAsync(batch, state.Features, batch.LabelColumn, state.Task, ct);
        }
        catch (UnusableBatchException e)
        {
            await DropAsync(dataset, p, e.Message, ct);
            return;
        }

        var predictions = TrainedModel.FromState(state).Predict(data);
        var edges = await EdgesAsync(dataset, data, ct);
        var metrics = Evaluator.Evaluate(predictions, data, options.TopValuesPerFeature, edges, perClass: state.Task != ModelTask.Regression);
        var named = await db.QualityDatasets.AsNoTracking().Where(s => s.Dataset == dataset).Select(s => s.Slices).SingleOrDefaultAsync(ct) ?? [];
        if (named.Count > 0)
        {
            metrics = metrics with { Slices = [.. metrics.Slices, .. NamedSlices.Measure(predictions, data, named)] };
        }

        var (quantity, histogram) = QualityDetector.Histogram(predictions, options.PredictionBins);
        var point = QualityDetector.Point(p.Version, metrics, histogram);
        var metric = QualityDetector.MetricName(state.Task);
        var value = point.Value;

        var history = (await db.Quality.AsNoTracking()
            .Where(q => q.Dataset == dataset && q.Seq < batch.Seq && q.Source == QualitySources.TestThenTrain)
            // A batch excluded since (quarantined, discarded, declared corrupt) is no evidence of what is normal.
            .Where(q => !db.Batches.Any(b => b.BatchId == q.BatchId && b.Excluded))
            .OrderByDescending(q => q.Seq).ThenByDescending(q => q.ScoredAt).Take(options.HistoryBatches)
            .ToListAsync(ct)).AsEnumerable().Reverse().Select(ToPoint).ToList();
        var verdict = QualityDetector.Judge(history, point, options);

        var now = clock.GetUtcNow();
        var policy = TrainingPolicy.From(await db.Policies.AsNoTracking().SingleOrDefaultAsync(x => x.Dataset == dataset, ct));
        var retrain = policy.RetrainOnQualityAlert && verdict.Quality.Count > 0;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var inserted = await db.Database.ExecuteSqlAsync($"""
            INSERT INTO trainer.quality (batch_id, version, dataset, run_id, seq, accepted_at, scored_at, rows, metric, value, overall, slices, histogram, psi)
            VALUES ({p.BatchId}, {p.Version}, {dataset}, {p.RunId}, {batch.Seq}, {batch.AcceptedAt}, {now}, {metrics.Overall.Count}, {metric}, {value},
                    {JsonColumns.Text(metrics.Overall)}::jsonb, {JsonColumns.Text(metrics.Slices)}::jsonb, {JsonColumns.Text(histogram)}::jsonb, {verdict.Psi})
            ON CONFLICT (batch_id, version) DO NOTHING
            """, ct);
        if (inserted == 1)
        {
            foreach (var f in verdict.Quality)
            {
                var (feature, slice) = f.SliceKey is null ? (null, null) : QualityDetector.SplitKey(f.SliceKey);
                var message = new ModelQualityDegraded
                {
                    Dataset = dataset, Version = p.Version, BatchId = p.BatchId, Scope = f.Scope, Feature = feature, Slice = slice,
                    Metric = f.Metric, Value = f.Value, Median = f.Norm.Median, Spread = f.Norm.Widened, Deviations = f.Deviations, Limit = f.Limit,
                    History = f.Norm.Count, Rows = f.Rows, Sentence = QualityDetector.Sentence(dataset, p.Version, f),
                    RetrainRequested = retrain, DetectedAt = now, CorrelationId = p.CorrelationId,
                };
                await RecordAlertAsync(dataset, p, message, "quality-" + f.Scope, f.SliceKey is null ? null : $"{feature}={slice}", message.Sentence, now, ct);
                LogDegraded(dataset, message.Sentence);
            }

            if (verdict.Drift is { } d)
            {
                var message = new PredictionDriftDetected
                {
                    Dataset = dataset, Version = p.Version, BatchId = p.BatchId, Quantity = quantity, Psi = d.Psi, Limit = d.Limit,
                    ReferenceBatches = d.ReferenceBatches, Rows = d.Rows, Sentence = QualityDetector.Sentence(dataset, p.Version, quantity, d),
                    DetectedAt = now, CorrelationId = p.CorrelationId,
                };
                await RecordAlertAsync(dataset, p, message, "prediction-drift", null, message.Sentence, now, ct);
                LogDegraded(dataset, message.Sentence);
            }

            if (retrain)
            {
                // One request per scored batch: the id derives from (batch, version), so a rescoring cannot ask twice.
                await RetrainRequests.RecordAsync(db, RequestId(p), dataset, fromVersion: null, fullRetrain: false, "quality alert", p.CorrelationId, now, ct);
            }
        }

        await db.Database.ExecuteSqlAsync($"DELETE FROM trainer.quality_pending WHERE batch_id = {p.BatchId}", ct);
        await tx.CommitAsync(ct);
        outbox.Notify();
        if (retrain)
        {
            signal.Notify();
        }
    }

    private async Task RecordAlertAsync<T>(string dataset, Pending p, T message, string kind, string? slice, string sentence, DateTimeOffset now, CancellationToken ct)
        where T : class
    {
        db.QualityAlerts.Add(new QualityAlertRecord
        {
            Dataset = dataset,
            BatchId = p.BatchId,
            Version = p.Version,
            Kind = kind,
            Slice = slice,
            Sentence = sentence,
            Numbers = JsonColumns.Element(message),
            RaisedAt = now,
        });
        await db.SaveChangesAsync(ct);
        await db.EnqueueAsync(message, p.CorrelationId, ct);
    }

    private async Task DropAsync(string dataset, Pending p, string reason, CancellationToken ct)
    {
        LogNotScored(dataset, p.BatchId, p.Version, reason);
        await db.Database.ExecuteSqlAsync($"DELETE FROM trainer.quality_pending WHERE batch_id = {p.BatchId}", ct);
    }

    /// <summary>The dataset's numeric cut points, fixed by the first batch scored (features seen later are added).</summary>
    private async Task<Dictionary<string, double[]>> EdgesAsync(string dataset, TabularDataset data, CancellationToken ct)
    {
        var edges = await db.QualityEdges.AsNoTracking().Where(e => e.Dataset == dataset).Select(e => e.Edges).SingleOrDefaultAsync(ct) ?? [];
        var added = Evaluator.QuantileEdges(data, settings.Value.NumericBuckets).Where(e => !edges.ContainsKey(e.Key)).ToList();
        if (added.Count == 0)
        {
            return edges;
        }

        foreach (var (k, v) in added)
        {
            edges[k] = v;
        }

        await db.Database.ExecuteSqlAsync($"INSERT INTO trainer.quality_edges (dataset, edges) VALUES ({dataset}, {JsonColumns.Text(edges)}::jsonb) ON CONFLICT (dataset) DO UPDATE SET edges = excluded.edges", ct);
        return edges;
    }

    private static QualityPoint ToPoint(QualityRecord q) =>
        QualityDetector.Point(q.Version, q.Overall, q.Metric == "rmse", q.Slices, q.Histogram) with { Psi = q.Psi };

    private static Guid RequestId(Pending p)
    {
        var bytes = p.BatchId.ToByteArray();
        var v = BitConverter.GetBytes(p.Version);
        for (var i = 0; i < v.Length; i++)
        {
            bytes[i] ^= v[i];
        }

        bytes[15] ^= 0x5a; // not the batch id itself when the version is 0
        return new Guid(bytes);
    }

    private sealed record Pending(Guid BatchId, int Version, Guid RunId, Guid CorrelationId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Dataset}: {Sentence}")]
    private partial void LogDegraded(string dataset, string sentence);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Dataset}: batch {BatchId} is not scored by v{Version}: {Reason}")]
    private partial void LogNotScored(string dataset, Guid batchId, int version, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Dataset}: scoring batch {BatchId} with v{Version} failed; retried at the next poll")]
    private partial void LogScoringFailed(Exception error, string dataset, Guid batchId, int version);
}
