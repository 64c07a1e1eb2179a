using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ctm.Testing;
using Ctm.Testing.Streams;

namespace Ctm.Bench.Stream;

/// <summary>What became of one posted batch, as the services recorded it.</summary>
public sealed record BatchOutcome(
    int Batch, Guid BatchId, string Decision, string Reasons, string? JobStatus, string? JobError, Guid? RunId, int? Version, string? Promotion,
    int? ServingAfter, double? FreshnessSeconds, double? PromotedAfterSeconds, string? Note);

/// <summary>An alarm the Trainer raised on a batch: <c>quality-overall</c>, <c>quality-slice</c> (with the slice) or <c>prediction-drift</c>.</summary>
public sealed record QualityAlarm(int Batch, int Version, string Kind, string? Slice);

/// <summary>Ctm's training compute: the sum over the Trainer's runs of rows × epochs processed.</summary>
public sealed record CtmCompute(long TrainedSamples, int Runs, bool FromTrainedSamples, string Modes);

/// <summary>The benchmark's side of the five services' HTTP APIs for one dataset.</summary>
public sealed class CtmClient(CtmSystem system, string dataset, string labelColumn, IReadOnlySet<string> numericFeatures) : IDisposable
{
    private const int ChunkRows = 250;
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan DecisionTimeout = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan TrainingTimeout = TimeSpan.FromMinutes(15);
    private static readonly TimeSpan ServingTimeout = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan NotDueAfter = TimeSpan.FromSeconds(90);

    private readonly HttpClient _ingest = system.Client("Ingest");
    private readonly HttpClient _validator = system.Client("Validator");
    private readonly HttpClient _trainer = system.Client("Trainer");
    private readonly HttpClient _registry = system.Client("Registry");
    private readonly HttpClient _predictor = system.Client("Predictor");

    /// <summary>The only setting the benchmark makes: which column is the label and what the task is (the Validator's dataset config).</summary>
    public async Task ConfigureAsync(string task) =>
        (await _validator.PutAsJsonAsync($"v1/datasets/{dataset}/config", new { labelColumn, task })).EnsureSuccessStatusCode();

    /// <summary>
    /// The serving version's probabilities for every row (TF Serving REST, feature-named instances, in chunks).
    /// Rows of a chunk the Predictor refused, or every row when nothing serves yet, are null.
    /// </summary>
    public async Task<(int? Version, IReadOnlyDictionary<string, double>?[] Rows, string? Error)> PredictAsync(StreamBatch batch)
    {
        var rows = new IReadOnlyDictionary<string, double>?[batch.Rows.Count];
        int? version = null;
        string? error = null;
        for (var start = 0; start < rows.Length; start += ChunkRows)
        {
            var instances = new JsonArray();
            for (var r = start; r < Math.Min(rows.Length, start + ChunkRows); r++)
            {
                instances.Add(Instance(batch.Header, batch.Rows[r]));
            }

            using var response = await _predictor.PostAsJsonAsync($"v1/models/{dataset}:predict", new JsonObject { ["instances"] = instances });
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            if (!response.IsSuccessStatusCode)
            {
                // 404 before the first version serves is expected; anything else is recorded with the batch.
                error ??= response.StatusCode == HttpStatusCode.NotFound ? "no version serving" : $"{(int)response.StatusCode}: {Text(body, "error")}";
                continue;
            }

            version = int.Parse(body.GetProperty("model_version").GetString()!, CultureInfo.InvariantCulture);
            var r0 = start;
            foreach (var prediction in body.GetProperty("predictions").EnumerateArray())
            {
                var probabilities = new Dictionary<string, double>(StringComparer.Ordinal);
                foreach (var p in prediction.GetProperty("probabilities").EnumerateObject())
                {
                    probabilities[p.Name] = p.Value.GetDouble();
                }

                rows[r0++] = probabilities;
            }
        }

        return (version, rows, error);
    }

    public async Task<(Guid BatchId, DateTimeOffset PostedAt, long PostedTicks)> PostAsync(StreamBatch batch)
    {
        using var content = new StringContent(batch.ToCsv(), Encoding.UTF8, "text/csv");
        var postedAt = DateTimeOffset.UtcNow;
        var ticks = Stopwatch.GetTimestamp();
        using var response = await _ingest.PostAsync($"v1/datasets/{dataset}/batches", content);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Ingest refused batch {batch.Index}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        var receipt = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (receipt.GetProperty("batchId").GetGuid(), postedAt, ticks);
    }

    /// <summary>
    /// Follows a posted batch through the services until nothing more will happen to it: the Validator's decision;
    /// if accepted, the Trainer's job for it (done or given up), the Registry's decision on the version trained, and
    /// the Predictor serving that version when it was promoted.
    /// </summary>
    public async Task<BatchOutcome> FollowAsync(int index, Guid batchId, DateTimeOffset postedAt, long postedTicks)
    {
        var decision = await UntilAsync(DecisionTimeout, async () =>
        {
            using var response = await _validator.GetAsync($"v1/batches/{batchId}");
            return response.StatusCode == HttpStatusCode.NotFound ? (JsonElement?)null : await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();
        });
        if (decision is not { } d)
        {
            return new BatchOutcome(index, batchId, "undecided", "", null, null, null, null, null, null, null, null, $"no Validator decision after {DecisionTimeout.TotalMinutes:0} min");
        }

        var status = d.GetProperty("status").GetString()!;
        // Blocking reasons first; warnings (Validators with severities record them on accepted batches too) marked.
        var anomalies = d.GetProperty("reasons").EnumerateArray()
            .Select(a => (Warn: Text(a, "severity") == "warn", Text: $"{Text(a, "kind")}{(Text(a, "feature") is { Length: > 0 } f ? $" {f}" : "")}")).ToList();
        var blocks = anomalies.Where(a => !a.Warn).Select(a => a.Text).Distinct().ToList();
        var warnings = anomalies.Where(a => a.Warn).Select(a => a.Text).Distinct().ToList();
        var reasons = string.Join("; ", blocks) + (warnings.Count == 0 ? "" : $"{(blocks.Count == 0 ? "" : " ")}(warn: {string.Join("; ", warnings)})");
        if (status is not ("accepted" or "released"))
        {
            return new BatchOutcome(index, batchId, status, reasons, null, null, null, null, null, null, null, null, null);
        }

        // The job for this batch; one run may answer several jobs, so the run is found through the job.
        async Task<JsonElement?> JobAsync()
        {
            var jobs = await _trainer.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/jobs");
            return jobs!.LastOrDefault(j => Text(j, "batchId") == batchId.ToString()) is { ValueKind: JsonValueKind.Object } found ? found : null;
        }

        if (await UntilAsync(DecisionTimeout, JobAsync) is null)
        {
            return new BatchOutcome(index, batchId, status, reasons, "none", null, null, null, null, null, null, null, $"the Trainer recorded no job for the batch within {DecisionTimeout.TotalMinutes:0} min");
        }

        // A job never started while nothing else runs is waiting for the policy's trigger (e.g. every N batches): the
        // batch will be trained with a later one, so the benchmark moves on instead of waiting for the timeout.
        var waiting = Stopwatch.StartNew();
        var j = await UntilAsync(TrainingTimeout, async () =>
        {
            if (await JobAsync() is not { } found)
            {
                return null;
            }

            var state = Text(found, "status");
            var idle = state == "pending" && Number(found, "attempts") is null or 0;
            return state is not ("pending" or "running") || (idle && waiting.Elapsed > NotDueAfter) ? found : (JsonElement?)null;
        });
        if (j is not { } job)
        {
            return new BatchOutcome(index, batchId, status, reasons, "unfinished", null, null, null, null, null, null, null, $"the Trainer's job did not finish within {TrainingTimeout.TotalMinutes:0} min");
        }

        if (Text(job, "status") == "pending")
        {
            return new BatchOutcome(index, batchId, status, reasons, "not due", null, null, null, null, null, null, null, $"the Trainer's job was not started within {NotDueAfter.TotalSeconds:0} s (not due under the policy?)");
        }

        var jobStatus = Text(job, "status");
        var jobError = Text(job, "error");
        if (!Guid.TryParse(Text(job, "runId"), out var runId))
        {
            return new BatchOutcome(index, batchId, status, reasons, jobStatus, jobError, null, null, null, null, null, null, null);
        }

        // The Registry registers the run's version and decides on it (promoted, rejected, pending for an operator, …).
        var version = await UntilAsync(ServingTimeout, async () =>
        {
            var versions = await _registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/versions");
            return versions!.FirstOrDefault(v => Text(v, "runId") == runId.ToString()) is { ValueKind: JsonValueKind.Object } found
                && Text(found, "decision") is { Length: > 0 } ? found : (JsonElement?)null;
        });
        if (version is not { } v)
        {
            return new BatchOutcome(index, batchId, status, reasons, jobStatus, jobError, runId, null, null, null, null, null, "no Registry decision on the run's version");
        }

        var number = v.GetProperty("version").GetInt32();
        var promotion = Text(v, "decision");
        if (promotion is not ("promoted" or "approved"))
        {
            return new BatchOutcome(index, batchId, status, reasons, jobStatus, jobError, runId, number, promotion, null, null, null, null);
        }

        var served = await UntilAsync(ServingTimeout, async () => await ServingVersionAsync() is { } s && s >= number ? s : (int?)null);
        var fresh = served is null ? (double?)null : Stopwatch.GetElapsedTime(postedTicks).TotalSeconds;
        double? promotedAfter = null;
        using (var response = await _registry.GetAsync($"v1/datasets/{dataset}/serving/history"))
        {
            var history = await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<List<JsonElement>>();
            if (history!.FirstOrDefault(h => h.GetProperty("version").GetInt32() == number) is { ValueKind: JsonValueKind.Object } h)
            {
                promotedAfter = (h.GetProperty("promotedAt").GetDateTimeOffset() - postedAt).TotalSeconds;
            }
        }

        return new BatchOutcome(index, batchId, status, reasons, jobStatus, jobError, runId, number, promotion, served, fresh, promotedAfter,
            served is null ? $"v{number} promoted but not served within {ServingTimeout.TotalMinutes:0} min" : null);
    }

    public async Task<int?> ServingVersionAsync()
    {
        var models = await _predictor.GetFromJsonAsync<List<JsonElement>>("v1/models");
        return models!.FirstOrDefault(m => Text(m, "name") == dataset) is { ValueKind: JsonValueKind.Object } m
            && m.GetProperty("version") is { ValueKind: JsonValueKind.Number } v ? v.GetInt32() : null;
    }

    /// <summary>
    /// Rows × epochs over the Trainer's runs: the run's <c>trainedSamples</c> parameter where the Trainer records it,
    /// else <c>trainRows</c> × <c>epochs</c> (which overstates a run that stopped early).
    /// </summary>
    public async Task<CtmCompute> ComputeAsync()
    {
        var runs = await _trainer.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/runs");
        long samples = 0;
        var recorded = true;
        foreach (var run in runs!)
        {
            var parameters = run.GetProperty("parameters");
            if ((Number(run, "trainedSamples") ?? Number(parameters, "trainedSamples")) is { } trained)
            {
                samples += (long)trained;
            }
            else
            {
                recorded = false;
                samples += (long)((Number(parameters, "trainRows") ?? 0) * (Number(parameters, "epochs") ?? 0));
            }
        }

        var modes = string.Join(", ", runs.GroupBy(r => Text(r, "mode") ?? (Text(r.GetProperty("parameters"), "warmStart") == "True" ? "warm" : "full"))
            .OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}"));
        return new CtmCompute(samples, runs.Count, recorded && runs.Count > 0, modes);
    }

    /// <summary>The Trainer's live-quality alarms on this dataset (each event it put on the bus has its row there), by batch.</summary>
    public async Task<List<QualityAlarm>> QualityAlarmsAsync(IReadOnlyList<BatchOutcome> outcomes)
    {
        var series = await _trainer.GetFromJsonAsync<JsonElement>($"v1/datasets/{dataset}/quality?feature=none");
        var index = outcomes.ToDictionary(o => o.BatchId, o => o.Batch);
        return [.. series.GetProperty("alerts").EnumerateArray()
            .Where(a => index.ContainsKey(a.GetProperty("batchId").GetGuid()))
            .Select(a => new QualityAlarm(index[a.GetProperty("batchId").GetGuid()], a.GetProperty("version").GetInt32(), Text(a, "kind")!, Text(a, "slice")))
            .OrderBy(a => a.Batch)];
    }

    /// <summary>The Trainer's whole quality series of this dataset (points with their slices, and alarms) as JSON, each point's batch number added.</summary>
    public async Task<string> QualitySeriesJsonAsync(IReadOnlyList<BatchOutcome> outcomes)
    {
        var series = await _trainer.GetFromJsonAsync<JsonObject>($"v1/datasets/{dataset}/quality");
        var index = outcomes.ToDictionary(o => o.BatchId.ToString(), o => o.Batch, StringComparer.OrdinalIgnoreCase);
        foreach (var point in series!["points"]!.AsArray())
        {
            point!["batch"] = index.TryGetValue(point["batchId"]!.GetValue<string>(), out var b) ? b : null;
        }

        return series.ToJsonString();
    }

    public void Dispose()
    {
        _ingest.Dispose();
        _validator.Dispose();
        _trainer.Dispose();
        _registry.Dispose();
        _predictor.Dispose();
    }

    private JsonObject Instance(IReadOnlyList<string> header, string?[] row)
    {
        var instance = new JsonObject();
        for (var c = 0; c < header.Count; c++)
        {
            if (header[c] == labelColumn)
            {
                continue;
            }

            var cell = row[c];
            instance[header[c]] = string.IsNullOrEmpty(cell)
                ? null
                : numericFeatures.Contains(header[c]) && double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number)
                    ? JsonValue.Create(number)
                    : JsonValue.Create(cell);
        }

        return instance;
    }

    private static async Task<T?> UntilAsync<T>(TimeSpan timeout, Func<Task<T?>> probe)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            try
            {
                if (await probe() is { } value)
                {
                    return value;
                }
            }
            catch (HttpRequestException)
            {
                // a service restarting or busy: ask again
            }

            await Task.Delay(Poll);
        }

        return default;
    }

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Null or JsonValueKind.Undefined => null,
                _ => value.GetRawText(),
            }
            : null;

    private static double? Number(JsonElement element, string name) =>
        Text(element, name) is { } text && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : null;
}
