using System.Globalization;
using Ctm.Data.Parsing;
using Ctm.Ml;
using Ctm.ServiceDefaults.Http;
using Ctm.Trainer.Extensions;
using Ctm.Trainer.Storage;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Ctm.Trainer.Quality;

/// <summary>
/// What label feedback does between messages, per dataset: reads the key column of new labeled batches as labels,
/// turns joined predictions into points of the quality series (one per version and role, so serving, canary and shadow
/// stand side by side), and forgets what the window or the row cap no longer keeps, counting it.
/// </summary>
public sealed partial class FeedbackMaintenance(
    TrainerDbContext db,
    FeedbackStore store,
    IHttpClientFactory http,
    IOptions<FeedbackOptions> settings,
    IOptions<QualityOptions> quality,
    TimeProvider clock,
    ILogger<FeedbackMaintenance> logger)
{
    private const int MaxRowsPerPoint = 50_000;
    private const int BatchesPerPass = 5;

    public async Task RunAsync(string dataset, CancellationToken ct)
    {
        await ReadBatchLabelsAsync(dataset, ct);
        await ScoreAsync(dataset, ct);
        await ExpireAsync(dataset, ct);
    }

    /// <summary>Labels from the key column of batches accepted within the window (older ones could join nothing).</summary>
    private async Task ReadBatchLabelsAsync(string dataset, CancellationToken ct)
    {
        var keyColumn = await db.QualityDatasets.AsNoTracking().Where(s => s.Dataset == dataset).Select(s => s.KeyColumn).SingleOrDefaultAsync(ct);
        if (keyColumn is null)
        {
            return;
        }

        var since = clock.GetUtcNow() - TimeSpan.FromHours(settings.Value.WindowHours);
        var batches = await db.Batches.AsNoTracking()
            .Where(b => b.Dataset == dataset && !b.Excluded && b.AcceptedAt >= since && !db.FeedbackBatches.Any(f => f.BatchId == b.BatchId))
            .OrderBy(b => b.Seq).Take(BatchesPerPass).ToListAsync(ct);
        foreach (var batch in batches)
        {
            var bytes = await http.RedeemClaimCheckAsync(batch.Location, batch.Sha256, ct);
            using var stream = new MemoryStream(bytes, writable: false);
            var table = TabularBatch.ReadCsv(stream, batch.Location);
            int k = table.IndexOf(keyColumn), l = table.IndexOf(batch.LabelColumn);
            var labels = new List<KeyedLabel>();
            if (k >= 0 && l >= 0)
            {
                foreach (var row in table.Rows)
                {
                    if (row[k] is { Length: > 0 } key && row[l] is { Length: > 0 } truth)
                    {
                        labels.Add(new KeyedLabel(key, truth, batch.AcceptedAt));
                    }
                }
            }

            var added = await store.RecordLabelsAsync(dataset, labels, "batch", batch.BatchId, ct);
            LogBatchLabels(dataset, batch.BatchId, keyColumn, labels.Count, added);
        }
    }

    /// <summary>One point per version and role whose joined, unscored predictions reached the minimum, or waited long enough.</summary>
    private async Task ScoreAsync(string dataset, CancellationToken ct)
    {
        var options = settings.Value;
        var now = clock.GetUtcNow();
        var groups = await db.ServedPredictions.AsNoTracking()
            .Where(p => p.Dataset == dataset && p.Truth != null && !p.Scored)
            .GroupBy(p => new { p.Version, p.Role })
            .Select(g => new { g.Key.Version, g.Key.Role, Rows = g.Count(), Oldest = g.Min(p => p.JoinedAt) })
            .ToListAsync(ct);
        foreach (var g in groups.OrderBy(g => g.Version).ThenBy(g => g.Role, StringComparer.Ordinal))
        {
            if (g.Rows < options.MinRows && (g.Oldest is null || now - g.Oldest.Value < TimeSpan.FromSeconds(options.MaxWaitSeconds)))
            {
                continue;
            }

            await using var tx = await db.Database.BeginTransactionAsync(ct);
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtext({"feedback:" + dataset}))", ct);
            var rows = await db.ServedPredictions.AsNoTracking()
                .Where(p => p.Dataset == dataset && p.Version == g.Version && p.Role == g.Role && p.Truth != null && !p.Scored)
                .OrderBy(p => p.JoinedAt).Take(MaxRowsPerPoint).ToListAsync(ct);
            if (rows.Count == 0)
            {
                continue; // another replica scored them
            }

            var keys = rows.Select(r => r.Key).ToArray();
            await db.Database.ExecuteSqlAsync($"""
                UPDATE trainer.served_predictions SET scored = true
                WHERE dataset = {dataset} AND version = {g.Version} AND role = {g.Role} AND key = ANY({keys})
                """, ct);
            if (Measure(rows) is { } measured)
            {
                var (metrics, predictions) = measured;
                var (_, histogram) = QualityDetector.Histogram(predictions, quality.Value.PredictionBins);
                var metric = QualityDetector.MetricName(metrics.Task);
                var value = metric == "rmse" ? metrics.Overall.Rmse : metrics.Overall.LogLoss;
                var seq = await db.Batches.Where(b => b.Dataset == dataset).MaxAsync(b => (long?)b.Seq, ct) ?? 0;
                var joinedAt = rows.Max(r => r.JoinedAt) ?? now;
                db.Quality.Add(new QualityRecord
                {
                    BatchId = NewId.NextGuid(), Version = g.Version, Dataset = dataset, Seq = seq, AcceptedAt = joinedAt, ScoredAt = now, Rows = metrics.Overall.Count,
                    Metric = metric, Value = value, Overall = metrics.Overall, Slices = [.. metrics.Slices], Histogram = histogram, Source = QualitySources.Served, Role = g.Role,
                });
                await db.SaveChangesAsync(ct);
                LogScored(dataset, g.Version, g.Role, metrics.Overall.Count, metric, value);
            }
            else
            {
                LogNotScored(dataset, g.Version, g.Role, rows.Count);
            }

            await tx.CommitAsync(ct);
        }
    }

    /// <summary>
    /// The served predictions against their labels: classifiers by their probabilities (a label the version never
    /// predicted counts as probability 0), regressions by their value (labels that are not numbers are left out).
    /// </summary>
    internal static (ModelMetrics Metrics, ModelPredictions Predictions)? Measure(IReadOnlyList<ServedPredictionRecord> rows)
    {
        var classified = rows.Where(r => r.Probabilities is not null).ToList();
        if (classified.Count > 0)
        {
            var probabilities = classified.Select(r => r.Probabilities!).ToList();
            var classes = probabilities.SelectMany(p => p.Keys).Concat(classified.Select(r => r.Truth!)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            var values = new float[classified.Count * classes.Count];
            var labels = new string[classified.Count];
            for (var r = 0; r < classified.Count; r++)
            {
                for (var c = 0; c < classes.Count; c++)
                {
                    values[(r * classes.Count) + c] = probabilities[r].TryGetValue(classes[c], out var p) ? (float)p : 0f;
                }

                labels[r] = classified[r].Label ?? probabilities[r].MaxBy(p => p.Value).Key;
            }

            var task = classes.Count == 2 ? ModelTask.BinaryClassification : ModelTask.MulticlassClassification;
            var predictions = new ModelPredictions(task, classes, classes.Count, values, labels);
            var data = TabularDataset.FromRows([], "label", task, classified.Select(r => new[] { r.Truth }));
            return (Evaluator.Evaluate(predictions, data, topValuesPerFeature: 0, numericEdges: null, perClass: true), predictions);
        }

        var numeric = rows.Where(r => r.Value is not null && double.TryParse(r.Truth, NumberStyles.Float, CultureInfo.InvariantCulture, out _)).ToList();
        if (numeric.Count == 0)
        {
            return null;
        }

        var regression = new ModelPredictions(ModelTask.Regression, [], 1, [.. numeric.Select(r => (float)r.Value!.Value)], null);
        var targets = TabularDataset.FromRows([], "label", ModelTask.Regression, numeric.Select(r => new[] { r.Truth }));
        return (Evaluator.Evaluate(regression, targets, topValuesPerFeature: 0, numericEdges: null, perClass: false), regression);
    }

    /// <summary>Drops what the window and the cap no longer keep; unlabeled predictions and unjoined labels are counted.</summary>
    private async Task ExpireAsync(string dataset, CancellationToken ct)
    {
        var options = settings.Value;
        var cutoff = clock.GetUtcNow() - TimeSpan.FromHours(options.WindowHours);
        var cap = options.MaxPredictionsPerDataset;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtext({"feedback:" + dataset}))", ct);
        var expired = await CountAsync($"""
            WITH gone AS (DELETE FROM trainer.served_predictions WHERE dataset = {dataset} AND served_at < {cutoff} RETURNING truth)
            SELECT count(*)::int AS "Value" FROM gone WHERE truth IS NULL
            """, ct);
        // Past the cap the scored go first (their point is stored), then the oldest.
        var evicted = await CountAsync($"""
            WITH excess AS (
                SELECT key, version, role FROM trainer.served_predictions WHERE dataset = {dataset}
                ORDER BY scored DESC, served_at LIMIT greatest(0, (SELECT count(*) FROM trainer.served_predictions WHERE dataset = {dataset}) - {cap})),
            gone AS (
                DELETE FROM trainer.served_predictions p USING excess e
                WHERE p.dataset = {dataset} AND p.key = e.key AND p.version = e.version AND p.role = e.role RETURNING p.truth)
            SELECT count(*)::int AS "Value" FROM gone WHERE truth IS NULL
            """, ct);
        var labelsExpired = await CountAsync($"""
            WITH gone AS (DELETE FROM trainer.feedback_labels WHERE dataset = {dataset} AND arrived_at < {cutoff} RETURNING joined_at)
            SELECT count(*)::int AS "Value" FROM gone WHERE joined_at IS NULL
            """, ct);
        var labelsEvicted = await CountAsync($"""
            WITH excess AS (
                SELECT key FROM trainer.feedback_labels WHERE dataset = {dataset}
                ORDER BY joined_at IS NULL, arrived_at LIMIT greatest(0, (SELECT count(*) FROM trainer.feedback_labels WHERE dataset = {dataset}) - {cap})),
            gone AS (DELETE FROM trainer.feedback_labels l USING excess e WHERE l.dataset = {dataset} AND l.key = e.key RETURNING l.joined_at)
            SELECT count(*)::int AS "Value" FROM gone WHERE joined_at IS NULL
            """, ct);
        await store.BumpAsync(dataset, ct, ("predictions_expired", expired), ("predictions_evicted", evicted), ("labels_expired", labelsExpired + labelsEvicted));
        await tx.CommitAsync(ct);
        if (expired + evicted + labelsExpired + labelsEvicted > 0)
        {
            LogExpired(dataset, expired, evicted, labelsExpired + labelsEvicted);
        }
    }

    // ToList, not Single: EF would wrap the statement in a subquery, where a data-modifying WITH is not allowed.
    private async Task<int> CountAsync(FormattableString sql, CancellationToken ct) => (await db.Database.SqlQuery<int>(sql).ToListAsync(ct))[0];

    [LoggerMessage(Level = LogLevel.Information, Message = "{Dataset}: batch {BatchId}'s key column {KeyColumn} gave {Labels} labels, {Added} new")]
    private partial void LogBatchLabels(string dataset, Guid batchId, string keyColumn, int labels, int added);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Dataset}: v{Version} ({Role}) scored on {Rows} served and labeled predictions: {Metric} {Value}")]
    private partial void LogScored(string dataset, int version, string role, int rows, string metric, double? value);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Dataset}: {Rows} joined predictions of v{Version} ({Role}) could not be measured (no probabilities, no numeric labels)")]
    private partial void LogNotScored(string dataset, int version, string role, int rows);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Dataset}: dropped {Expired} unlabeled predictions past the window, {Evicted} past the row cap, and {Labels} labels no prediction joined")]
    private partial void LogExpired(string dataset, int expired, int evicted, int labels);
}
