using Ctm.Contracts;
using Ctm.ServiceDefaults.Storage;
using Ctm.Trainer.Storage;
using Microsoft.EntityFrameworkCore;

namespace Ctm.Trainer.Quality;

/// <summary>A label by example key.</summary>
public sealed record KeyedLabel(string Key, string Truth, DateTimeOffset LabeledAt);

/// <summary>
/// Stores keyed predictions served and labels by key, and joins them, in either order. Each write takes the dataset's
/// transaction-scoped advisory lock, so a label and its prediction committed concurrently cannot both miss the other.
/// A key counts once: the first label of a key is kept (a repeat is counted as a duplicate), and a prediction is one
/// row per (key, version, role), so a redelivered report changes nothing.
/// </summary>
public sealed class FeedbackStore(TrainerDbContext db, TimeProvider clock)
{
    public async Task RecordPredictionsAsync(PredictionsServed message, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(message);
        var dataset = message.Dataset;
        var rows = message.Predictions.Where(p => p.Key.Length > 0).ToList();
        var keys = rows.Select(p => p.Key).ToArray();
        var versions = rows.Select(p => p.Version).ToArray();
        var roles = rows.Select(p => p.Role).ToArray();
        var labels = rows.Select(p => p.Label).ToArray();
        var probabilities = rows.Select(p => JsonColumns.Text(p.Probabilities)).ToArray();
        var values = rows.Select(p => p.Value).ToArray();
        var servedAt = rows.Select(p => p.ServedAt.ToUniversalTime()).ToArray();

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await LockAsync(dataset, ct);
        var inserted = await db.Database.ExecuteSqlAsync($"""
            INSERT INTO trainer.served_predictions (dataset, key, version, role, label, probabilities, value, served_at)
            SELECT {dataset}, k, v, r, l, p::jsonb, x, s FROM unnest({keys}, {versions}, {roles}, {labels}, {probabilities}, {values}, {servedAt}) AS t(k, v, r, l, p, x, s)
            ON CONFLICT (dataset, key, version, role) DO NOTHING
            """, ct);
        var joined = await JoinAsync(dataset, keys, ct);
        await BumpAsync(dataset, ct,
            ("predictions_received", inserted), ("predictions_duplicate", rows.Count - inserted), ("predictions_dropped", message.Dropped ?? 0),
            ("predictions_joined", joined.Predictions), ("labels_joined", joined.Labels));
        await tx.CommitAsync(ct);
    }

    /// <returns>How many of the labels were new (not a repeat of a key already labeled).</returns>
    /// <param name="dataset">The dataset.</param>
    /// <param name="labels">The labels.</param>
    /// <param name="source"><c>bus</c> or <c>batch</c>.</param>
    /// <param name="batchId">For a labeled batch's key column: the batch, recorded in the same transaction so it is read once.</param>
    /// <param name="ct">Cancellation.</param>
    public async Task<int> RecordLabelsAsync(string dataset, IReadOnlyList<KeyedLabel> labels, string source, Guid? batchId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var distinct = labels.DistinctBy(l => l.Key, StringComparer.Ordinal).ToList();
        var keys = distinct.Select(l => l.Key).ToArray();
        var truths = distinct.Select(l => l.Truth).ToArray();
        var labeledAt = distinct.Select(l => l.LabeledAt.ToUniversalTime()).ToArray();
        var now = clock.GetUtcNow();

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await LockAsync(dataset, ct);
        if (batchId is { } batch && await db.Database.ExecuteSqlAsync(
            $"INSERT INTO trainer.feedback_batches (batch_id, dataset, labels, read_at) VALUES ({batch}, {dataset}, {distinct.Count}, {now}) ON CONFLICT (batch_id) DO NOTHING", ct) == 0)
        {
            return 0;
        }

        var inserted = await db.Database.ExecuteSqlAsync($"""
            INSERT INTO trainer.feedback_labels (dataset, key, truth, source, labeled_at, arrived_at)
            SELECT {dataset}, k, t, {source}, a, {now} FROM unnest({keys}, {truths}, {labeledAt}) AS u(k, t, a)
            ON CONFLICT (dataset, key) DO NOTHING
            """, ct);
        var joined = await JoinAsync(dataset, keys, ct);
        await BumpAsync(dataset, ct,
            ("labels_received", inserted), ("labels_duplicate", labels.Count - inserted),
            ("predictions_joined", joined.Predictions), ("labels_joined", joined.Labels));
        await tx.CommitAsync(ct);
        return inserted;
    }

    /// <summary>Joins the stored labels of <paramref name="keys"/> to their unlabeled predictions.</summary>
    private async Task<(int Predictions, int Labels)> JoinAsync(string dataset, string[] keys, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var predictions = await db.Database.ExecuteSqlAsync($"""
            UPDATE trainer.served_predictions p SET truth = l.truth, joined_at = {now}
            FROM trainer.feedback_labels l
            WHERE p.dataset = {dataset} AND l.dataset = {dataset} AND p.key = l.key AND p.truth IS NULL AND p.key = ANY({keys})
            """, ct);
        if (predictions == 0)
        {
            return (0, 0);
        }

        var labels = await db.Database.ExecuteSqlAsync($"""
            UPDATE trainer.feedback_labels l SET joined_at = {now}
            WHERE l.dataset = {dataset} AND l.joined_at IS NULL AND l.key = ANY({keys})
              AND EXISTS (SELECT 1 FROM trainer.served_predictions p WHERE p.dataset = {dataset} AND p.key = l.key)
            """, ct);
        return (predictions, labels);
    }

    private async Task LockAsync(string dataset, CancellationToken ct) =>
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtext({"feedback:" + dataset}))", ct);

    /// <summary>Adds to the dataset's counters (the column names are this class's constants, never input).</summary>
    public async Task BumpAsync(string dataset, CancellationToken ct, params (string Column, long By)[] counts)
    {
        var nonZero = counts.Where(c => c.By != 0).ToList();
        if (nonZero.Count == 0)
        {
            return;
        }

        var columns = string.Join(", ", nonZero.Select(c => c.Column));
        var values = string.Join(", ", nonZero.Select((c, i) => $"{{{i + 1}}}"));
        var updates = string.Join(", ", nonZero.Select(c => $"{c.Column} = trainer.feedback_counters.{c.Column} + excluded.{c.Column}"));
        object[] parameters = [dataset, .. nonZero.Select(c => (object)c.By)];
#pragma warning disable EF1002 // the interpolated parts are column names from this class, the values are parameters
        await db.Database.ExecuteSqlRawAsync(
            $"INSERT INTO trainer.feedback_counters (dataset, {columns}) VALUES ({{0}}, {values}) ON CONFLICT (dataset) DO UPDATE SET {updates}", parameters, ct);
#pragma warning restore EF1002
    }
}
