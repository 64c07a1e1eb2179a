using Ctm.Contracts;
using Ctm.Data.Parsing;
using Ctm.Ml;
using Ctm.ServiceDefaults.Http;
using Ctm.Trainer.Policies;
using Ctm.Trainer.Storage;
using Microsoft.EntityFrameworkCore;

namespace Ctm.Trainer.Training;

/// <summary>Gathers a run's data: the clean batches up to a cut-off, of the newest schema, in the policy's window.</summary>
public sealed class TrainingDataLoader(TrainerDbContext db, IHttpClientFactory http, BatchRowsCache cache)
{
    /// <returns>The data, or null when the dataset has no clean batch up to the cut-off.</returns>
    public async Task<TrainingSet?> LoadAsync(string dataset, long? cutoffSeq, TrainingPolicy policy, CancellationToken ct)
    {
        var query = db.Batches.AsNoTracking().Where(b => b.Dataset == dataset && !b.Excluded);
        if (cutoffSeq is { } cutoff)
        {
            query = query.Where(b => b.Seq <= cutoff);
        }

        var batches = await query.OrderBy(b => b.Seq).ToListAsync(ct);
        if (batches.Count == 0)
        {
            return null;
        }

        // Train on the batches shaped like the newest schema's (same features, label and task). A change that only
        // relaxes the schema (a new domain value, a wider range) keeps the lineage; a new or retyped column starts a
        // new one with a full retrain.
        var schemaVersion = batches.Max(b => b.SchemaVersion);
        var shape = Shape(batches.Last(b => b.SchemaVersion == schemaVersion));
        batches = [.. batches.Where(b => Shape(b) == shape)];
        var (window, weights, description) = TrainingWindow.Apply(policy, batches);
        var newest = window[^1];
        var features = newest.Features
            .Select(c => new FeatureSpec(c.Name, c.Kind == ColumnKind.Numeric ? FeatureKind.Numeric : FeatureKind.Categorical)).ToList();
        var task = newest.Task.ToModelTask();

        var parts = new List<TabularDataset>(window.Count);
        foreach (var batch in window)
        {
            parts.Add(await LoadBatchAsync(batch, features, newest.LabelColumn, task, ct));
        }

        return new TrainingSet(window, schemaVersion, features, newest.LabelColumn, task, newest.Task, parts, weights, description);
    }

    /// <summary>One batch's rows with the given features and label (cached); a batch whose rows cannot be read as such throws <see cref="UnusableBatchException"/>.</summary>
    public async Task<TabularDataset> LoadBatchAsync(AcceptedBatch batch, IReadOnlyList<FeatureSpec> features, string label, ModelTask task, CancellationToken ct)
    {
        var key = $"{batch.BatchId}|{batch.Sha256}|{label}|{task}|{string.Join(",", features.Select(f => $"{f.Name}:{f.Kind}"))}";
        if (cache.TryGet(key, out var cached))
        {
            return cached;
        }

        var bytes = await http.RedeemClaimCheckAsync(batch.Location, batch.Sha256, ct);

        using var stream = new MemoryStream(bytes, writable: false);
        var table = TabularBatch.ReadCsv(stream, batch.Location);
        var indices = features.Select(f => table.IndexOf(f.Name)).Append(table.IndexOf(label)).ToArray();
        var rows = new List<string?[]>(table.Rows.Count);
        foreach (var row in table.Rows)
        {
            rows.Add([.. indices.Select(i => i < 0 ? null : row[i])]);
        }

        TabularDataset data;
        try
        {
            data = TabularDataset.FromRows(features, label, task, rows);
        }
        catch (FormatException e)
        {
            throw new UnusableBatchException(batch.BatchId, e.Message, e);
        }

        if (data.ClassLabels is { } labels && Array.FindIndex(labels, string.IsNullOrEmpty) is var missing and >= 0)
        {
            throw new UnusableBatchException(batch.BatchId, $"label '{label}' is missing at row {missing}");
        }

        cache.Add(key, data);
        return data;
    }

    private static string Shape(AcceptedBatch batch) =>
        string.Join('|', batch.Features.Select(c => $"{c.Name}:{c.Kind}"))
        + $"|label={batch.LabelColumn}|task={batch.Task}";
}

/// <summary>
/// Parsed batches, so each run does not download and parse every batch of its window again. Batches are immutable
/// (the key includes their hash), so a cached copy is never stale; the oldest entries go past a row budget.
/// </summary>
public sealed class BatchRowsCache
{
    private const long MaxRows = 2_000_000;
    private readonly object _gate = new();
    private readonly Dictionary<string, TabularDataset> _entries = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();
    private long _rows;

    public bool TryGet(string key, out TabularDataset data)
    {
        lock (_gate)
        {
            return _entries.TryGetValue(key, out data!);
        }
    }

    public void Add(string key, TabularDataset data)
    {
        lock (_gate)
        {
            if (!_entries.TryAdd(key, data))
            {
                return;
            }

            _order.Enqueue(key);
            _rows += data.RowCount;
            while (_rows > MaxRows && _order.TryDequeue(out var oldest))
            {
                _rows -= _entries[oldest].RowCount;
                _entries.Remove(oldest);
            }
        }
    }
}
