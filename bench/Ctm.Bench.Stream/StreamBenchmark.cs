using System.Globalization;
using Ctm.Ml;
using Ctm.Testing;
using Ctm.Testing.Streams;

namespace Ctm.Bench.Stream;

/// <summary>Everything one stream's run produced, for the table, the goals, the markdown file and the chart.</summary>
public sealed record StreamResult(
    string Name, GeneratedStream Stream, bool Binary, string PositiveClass, IReadOnlyList<int> Evaluated,
    IReadOnlyList<BatchOutcome> Outcomes, IReadOnlyList<int?> ServingBefore, IReadOnlyList<string?> PredictErrors,
    Evaluation Ctm, IReadOnlyList<(Evaluation Evaluation, LocalResult Result)> Static, IReadOnlyList<(Evaluation Evaluation, LocalResult Result)> Oracle,
    CtmCompute Compute, IReadOnlyList<ShadedSpan> Spans, IReadOnlyDictionary<string, int?> LateClassLag, TimeSpan Elapsed)
{
    /// <summary>The Trainer's live-quality alarms (ModelQualityDegraded, PredictionDriftDetected), by batch.</summary>
    public IReadOnlyList<QualityAlarm> Alarms { get; init; } = [];

    /// <summary>The Trainer's quality series (GET quality, each point's batch added) as JSON, written beside the report.</summary>
    public string QualitySeries { get; init; } = "{}";

    public (Evaluation Evaluation, LocalResult Result) BestStatic => Static.MaxBy(s => s.Evaluation.Primary);

    public (Evaluation Evaluation, LocalResult Result) BestOracle => Oracle.MaxBy(s => s.Evaluation.Primary);

    public long OracleSamples => BestOracle.Result.TrainedSamples;
}

/// <summary>One stream, test-then-train through the running services, with the in-process references beside it.</summary>
public static class StreamBenchmark
{
    /// <summary>The static model trains on this many clean batches; metrics start after them.</summary>
    public const int WarmupBatches = 5;

    public static async Task<StreamResult> RunAsync(CtmSystem system, string name, StreamOptions options, IReadOnlyList<Recipe> oracleRecipes)
    {
        var started = DateTime.UtcNow;
        var stream = StreamGenerator.Generate(options);
        var binary = stream.Task == "binary";
        var task = binary ? ModelTask.BinaryClassification : ModelTask.MulticlassClassification;
        var labels = stream.Batches.Select(b =>
        {
            var column = LocalModels.Column(b, stream.LabelColumn);
            return b.Rows.Select(r => string.IsNullOrEmpty(r[column]) ? null : r[column]).ToArray();
        }).ToList();
        var classes = labels.SelectMany(l => l).OfType<string>().Distinct().Order(StringComparer.Ordinal).ToList();
        var positive = PositiveClass(classes);
        var clean = stream.Batches.Where(b => b.IsClean).Select(b => b.Index).ToList();
        var warmup = clean.Take(WarmupBatches).ToList();
        var evaluated = clean.Skip(WarmupBatches).ToList();
        Console.WriteLine(F($"# {name}: {stream.Task}, {stream.Batches.Count} batches × {stream.Batches[0].Rows.Count} rows, label '{stream.LabelColumn}' ({string.Join(", ", classes)}{(binary ? $"; AUC of '{positive}'" : "")}), {clean.Count} clean, {stream.Batches.Count - clean.Count} corrupt{(stream.LateClass is { } lc ? $", late class '{lc}' from batch {stream.LateClassFirstBatch}" : "")}"));

        // Through the services: predict with what serves, then post, then wait until the services are done with it.
        using var client = new CtmClient(system, name, stream.LabelColumn, stream.NumericFeatures.ToHashSet(StringComparer.Ordinal));
        await client.ConfigureAsync(stream.Task);
        var outcomes = new List<BatchOutcome>();
        var servingBefore = new List<int?>();
        var errors = new List<string?>();
        var ctmPredictions = new List<BatchPrediction>();
        foreach (var batch in stream.Batches)
        {
            var (version, rows, error) = await client.PredictAsync(batch);
            servingBefore.Add(version);
            errors.Add(error);
            ctmPredictions.Add(new BatchPrediction(batch.Index, rows));
            var (batchId, postedAt, ticks) = await client.PostAsync(batch);
            var outcome = await client.FollowAsync(batch.Index, batchId, postedAt, ticks);
            outcomes.Add(outcome);
            var one = StreamMetrics.Evaluate("ctm", binary, positive, classes, labels, [batch.Index], [ctmPredictions[^1]]);
            var fresh = outcome.FreshnessSeconds is { } f ? F($"fresh {f:0.0} s") : "";
            var note = (outcome.Note ?? outcome.JobError ?? error) is { } n ? $"  [{Trim(n, 80)}]" : "";
            Console.WriteLine(F($"{name,-8} {batch.Index,3}/{stream.Batches.Count} {Kind(batch),-16} {outcome.Decision,-11} {Served(version, outcome),-22} {(binary ? "AUC" : "acc")} {Show(one.BatchMetric[batch.Index]),5}  log loss {Show(one.BatchLogLoss[batch.Index]),6}  {fresh,-12} {Trim(outcome.Reasons, 70)}{note}"));
        }

        var compute = await client.ComputeAsync();
        var alarms = await client.QualityAlarmsAsync(outcomes);
        var qualitySeries = await client.QualitySeriesJsonAsync(outcomes);

        // In-process references on the same batches.
        var local = new LocalModels(stream, task);
        var statics = new List<(Evaluation, LocalResult)>();
        var oracles = new List<(Evaluation, LocalResult)>();
        if (evaluated.Count > 0)
        {
            foreach (var recipe in Recipe.Plain)
            {
                var result = local.Static(recipe, warmup, evaluated);
                statics.Add((StreamMetrics.Evaluate(result.Name, binary, positive, classes, labels, evaluated, result.Predictions), result));
                Console.WriteLine(F($"{name,-8} {result.Name}: trained on batches {string.Join(",", warmup)} in {result.TrainingTime.TotalSeconds:0.0} s"));
            }

            foreach (var recipe in oracleRecipes)
            {
                var result = local.Oracle(recipe, clean, evaluated, (b, t) => Console.WriteLine(F($"{name,-8} oracle {recipe.Name}: before batch {b}, trained on {clean.Count(c => c < b)} clean batches in {t.TotalSeconds:0.0} s")));
                oracles.Add((StreamMetrics.Evaluate(result.Name, binary, positive, classes, labels, evaluated, result.Predictions), result));
            }
        }

        var ctm = StreamMetrics.Evaluate("Ctm", binary, positive, classes, labels, evaluated, ctmPredictions);
        var lag = new Dictionary<string, int?>();
        // A stream cut short (--batches) before the late class appears has no new class to measure.
        if (stream.LateClass is { } lateClass && stream.LateClassFirstBatch is { } first && first < stream.Batches.Count)
        {
            lag["Ctm"] = LateClassLag(ctmPredictions, labels, lateClass, first);
            lag["Ctm (known)"] = LateClassLag(ctmPredictions, labels, lateClass, first, knownOnly: true);
            foreach (var (_, r) in statics.Concat(oracles))
            {
                lag[r.Name] = LateClassLag(r.Predictions, labels, lateClass, first);
            }
        }

        return new StreamResult(name, stream, binary, positive, evaluated, outcomes, servingBefore, errors, ctm, statics, oracles, compute, Spans(stream), lag, DateTime.UtcNow - started)
        {
            Alarms = alarms,
            QualitySeries = qualitySeries,
        };
    }

    /// <summary>
    /// Batches from the late class's first appearance until a model "serves" it: the first batch holding the class in
    /// which the model, predicting before seeing that batch, either ranks the class first on at least one of its rows
    /// or gives it a mean probability above 0.1 over them. 0 would mean it was predicted before ever being seen; null: never.
    /// </summary>
    public static int? LateClassLag(IReadOnlyList<BatchPrediction> predictions, IReadOnlyList<string?[]> labels, string lateClass, int firstBatch, bool knownOnly = false)
    {
        foreach (var p in predictions.Where(p => p.Batch >= firstBatch).OrderBy(p => p.Batch))
        {
            var rows = Enumerable.Range(0, p.Rows.Length).Where(r => labels[p.Batch][r] == lateClass).ToList();
            if (rows.Count == 0)
            {
                continue;
            }

            if (knownOnly)
            {
                if (rows.Any(r => p.Rows[r]?.ContainsKey(lateClass) == true))
                {
                    return p.Batch - firstBatch;
                }

                continue;
            }

            var top = rows.Any(r => p.Rows[r] is { } probabilities && StreamMetrics.Argmax(probabilities) == lateClass);
            var mean = rows.Average(r => p.Rows[r]?.GetValueOrDefault(lateClass, 0) ?? 0);
            if (top || mean > 0.1)
            {
                return p.Batch - firstBatch;
            }
        }

        return null;
    }

    /// <summary>The class whose probability is ranked for AUC: "1", "true" or "yes" when present, else the second in ordinal order.</summary>
    public static string PositiveClass(IReadOnlyList<string> classes) =>
        classes.FirstOrDefault(c => c is "1" or "true" or "True" or "yes") ?? (classes.Count > 1 ? classes[1] : classes.Count > 0 ? classes[0] : "1");

    private static List<ShadedSpan> Spans(GeneratedStream stream)
    {
        var spans = new List<ShadedSpan>();
        foreach (var batch in stream.Batches.Where(b => !b.IsClean))
        {
            var kind = Kind(batch);
            if (spans.Count > 0 && spans[^1].Kind == kind && spans[^1].Last == batch.Index - 1)
            {
                spans[^1] = spans[^1] with { Last = batch.Index };
            }
            else
            {
                spans.Add(new ShadedSpan(kind, batch.Index, batch.Index));
            }
        }

        return spans;
    }

    public static string Kind(StreamBatch batch) => batch.IsClean ? "clean" : $"{batch.Corruption}";

    private static string Served(int? before, BatchOutcome outcome) =>
        $"v{before?.ToString(CultureInfo.InvariantCulture) ?? "-"} → " + (outcome.Version is { } v
            ? $"v{v} {outcome.Promotion}"
            : outcome.JobStatus is { } job ? $"job {job}" : "no run");

    private static string Show(double value) => double.IsFinite(value) ? value.ToString("0.000", CultureInfo.InvariantCulture) : "-";

    private static string Trim(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
