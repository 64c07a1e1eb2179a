using System.Globalization;
using System.Text;
using Ctm.Testing.Streams;

namespace Ctm.Bench.Stream;

/// <summary>One of the issue's goals, measured.</summary>
public sealed record Goal(string Text, string Measured, bool? Pass)
{
    public string Verdict => Pass switch { true => "PASS", false => "FAIL", null => "n/a" };
}

/// <summary>The table, the goals, the markdown file and the chart of one stream's run.</summary>
public static class Report
{
    public const double AucMargin = 0.005;
    public const double ComputeShare = 0.05;
    public const int CleanBatchesPerFalseQuarantine = 35;
    public const int NeighbourBatches = 2;
    public const int NewClassBatches = 2;
    public const int ConceptChangeBatches = 2;

    private static readonly string[] AcceptedStatuses = ["accepted", "released"];

    public static bool IsAccepted(BatchOutcome outcome) => AcceptedStatuses.Contains(outcome.Decision);

    public static List<(string Model, Evaluation Evaluation, long? Samples)> Rows(StreamResult r) =>
    [
        ("Ctm (services, defaults)", r.Ctm, r.Compute.TrainedSamples),
        .. r.Static.Select(s => (s.Result.Name, s.Evaluation, (long?)s.Result.TrainedSamples)),
        .. r.Oracle.Select(s => (s.Result.Name, s.Evaluation, (long?)s.Result.TrainedSamples)),
    ];

    public static List<Goal> Goals(StreamResult r)
    {
        var goals = new List<Goal>();
        var clean = r.Outcomes.Where(o => r.Stream.Batches[o.Batch].IsClean).ToList();
        var falseQuarantines = clean.Count(o => !IsAccepted(o));
        // One per full 35 clean batches, and one in any stream: a 30-batch stream may have one false quarantine.
        var allowed = Math.Max(1, clean.Count / CleanBatchesPerFalseQuarantine);
        goals.Add(new Goal(
            $"at most 1 false quarantine per {CleanBatchesPerFalseQuarantine} clean batches",
            F($"{falseQuarantines} of {clean.Count} clean batches not accepted (allowed: {allowed})"),
            falseQuarantines <= allowed));

        foreach (var span in r.Spans)
        {
            var inSpan = r.Outcomes.Where(o => o.Batch >= span.First && o.Batch <= span.Last).ToList();
            var neighbours = r.Outcomes.Where(o => r.Stream.Batches[o.Batch].IsClean
                && ((o.Batch < span.First && o.Batch >= span.First - NeighbourBatches) || (o.Batch > span.Last && o.Batch <= span.Last + NeighbourBatches))).ToList();
            var firstQuarantined = inSpan.Count > 0 && !IsAccepted(inSpan[0]);
            var allQuarantined = inSpan.All(o => !IsAccepted(o));
            var neighboursPass = neighbours.All(IsAccepted);
            goals.Add(new Goal(
                $"{span.Kind} (batches {span.First}–{span.Last}) quarantined from its first batch, clean batches within {NeighbourBatches} of it accepted",
                F($"first batch {(firstQuarantined ? "quarantined" : "accepted")}, {inSpan.Count(o => !IsAccepted(o))} of {inSpan.Count} quarantined, {neighbours.Count(IsAccepted)} of {neighbours.Count} neighbours accepted"),
                firstQuarantined && allQuarantined && neighboursPass));
        }

        if (r.Stream.Options.ConceptChangeBatch is { } change)
        {
            var (delay, falseAlarms) = QualityDetection(r, change);
            goals.Add(new Goal(
                $"P(y|x) change at batch {change}: ModelQualityDegraded within {ConceptChangeBatches} batches, none before it",
                (delay is { } d ? F($"first at batch {change + d} ({d} batch(es) after the change)") : "none after the change") + F($"; {falseAlarms} before it"),
                delay is { } x && x <= ConceptChangeBatches && falseAlarms == 0));
        }

        if (r.Static.Count == 0 || r.Oracle.Count == 0)
        {
            return goals;
        }

        var metric = r.Binary ? "AUC" : "accuracy";
        var (bestStatic, _) = r.BestStatic;
        var (bestOracle, _) = r.BestOracle;
        var share = r.OracleSamples == 0 ? double.NaN : (double)r.Compute.TrainedSamples / r.OracleSamples;
        goals.Add(new Goal(
            $"prequential {metric} above the static model's",
            F($"{r.Ctm.Primary:0.0000} vs {bestStatic.Primary:0.0000} ({bestStatic.Model})"),
            r.Ctm.Primary > bestStatic.Primary));
        var withinOracle = r.Ctm.Primary >= bestOracle.Primary - AucMargin;
        goals.Add(new Goal(
            $"prequential {metric} within {AucMargin} of the oracle's at no more than {ComputeShare:P0} of its compute",
            F($"{r.Ctm.Primary:0.0000} vs {bestOracle.Primary:0.0000} ({bestOracle.Model}): {r.Ctm.Primary - bestOracle.Primary:+0.0000;-0.0000}; compute {r.Compute.TrainedSamples:N0} vs {r.OracleSamples:N0} rows × epochs = {share:P1}{(r.Compute.FromTrainedSamples ? "" : " (trainRows × epochs: the runs carry no trainedSamples)")}"),
            withinOracle && share <= ComputeShare));
        var lowestStatic = r.Static.Select(s => s.Evaluation).MinBy(e => e.LogLoss)!;
        var worseBatches = r.Evaluated.Count(b => r.Ctm.BatchLogLoss[b] > lowestStatic.BatchLogLoss[b]);
        goals.Add(new Goal(
            "log loss never worse than the static model's (pooled)",
            F($"{r.Ctm.LogLoss:0.0000} vs {lowestStatic.LogLoss:0.0000} ({lowestStatic.Model}); worse in {worseBatches} of {r.Evaluated.Count} batches"),
            r.Ctm.LogLoss <= lowestStatic.LogLoss));

        if (r.Stream.LateClass is { } late && r.LateClassLag.Count > 0)
        {
            // Served = the serving model has the class among its outputs (training never got stuck on it). How soon the
            // model also ranks it well depends on how many rows of it exist yet, so that lag is reported beside the oracle's.
            var lag = r.LateClassLag.GetValueOrDefault("Ctm (known)");
            var recognized = r.LateClassLag.GetValueOrDefault("Ctm");
            goals.Add(new Goal(
                $"new class '{late}' served (among the serving model's outputs) within {NewClassBatches} batches of its first appearance (batch {r.Stream.LateClassFirstBatch})",
                (lag is { } l ? F($"served {l} batch(es) later (batch {r.Stream.LateClassFirstBatch + l})") : "never served")
                    + (recognized is { } g ? F($"; recognized after {g} batch(es)") : "; never recognized"),
                lag is { } x && x <= NewClassBatches));
        }

        return goals;
    }

    /// <summary>The plain table and goals for stdout.</summary>
    public static string Text(StreamResult r, string command)
    {
        var text = new StringBuilder();
        var metric = r.Binary ? "AUC" : "accuracy";
        text.AppendLine(F($"== {r.Name}: {command}"));
        text.AppendLine(F($"   {r.Evaluated.Count} clean batches after the first {StreamBenchmark.WarmupBatches} clean ones, {r.Ctm.Rows} rows, the same for every model"));
        text.AppendLine(r.Binary
            ? F($"   {"model",-26} {"AUC pooled",10} {"AUC/batch",10} {"log loss",9} {"no pred",8} {"rows×epochs",14}")
            : F($"   {"model",-26} {"accuracy",10} {"",10} {"log loss",9} {"no pred",8} {"rows×epochs",14}"));
        foreach (var (model, e, samples) in Rows(r))
        {
            text.AppendLine(F($"   {model,-26} {Show(e.Primary, "0.0000"),10} {Show(e.MeanBatchAuc ?? double.NaN, "0.0000"),10} {Show(e.LogLoss, "0.0000"),9} {e.MissingRows,8} {samples?.ToString("N0", CultureInfo.InvariantCulture) ?? "-",14}"));
        }

        text.AppendLine(F($"   {metric} pooled over all scored rows; log loss clipped at 1e-15; 'no pred': rows scored as a uniform guess (nothing serving)"));
        foreach (var line in Summary(r))
        {
            text.AppendLine("   " + line);
        }

        foreach (var goal in Goals(r))
        {
            text.AppendLine(F($"   [{goal.Verdict}] {goal.Text}: {goal.Measured}"));
        }

        return text.ToString();
    }

    public static IEnumerable<string> Summary(StreamResult r)
    {
        var fresh = r.Outcomes.Select(o => o.FreshnessSeconds).OfType<double>().Order().ToList();
        var promotedAfter = r.Outcomes.Select(o => o.PromotedAfterSeconds).OfType<double>().Order().ToList();
        var corrupt = r.Outcomes.Where(o => !r.Stream.Batches[o.Batch].IsClean).ToList();
        yield return F($"quarantine: {r.Outcomes.Count(o => r.Stream.Batches[o.Batch].IsClean && !IsAccepted(o))} of {r.Outcomes.Count(o => r.Stream.Batches[o.Batch].IsClean)} clean batches not accepted (false), {corrupt.Count(IsAccepted)} of {corrupt.Count} corrupt batches accepted (missed)");
        yield return fresh.Count == 0
            ? "freshness: no batch's run was promoted and served"
            : F($"freshness (post → Predictor serving a version trained on the batch): median {StreamMetrics.Quantile(fresh, 0.5):0.0} s, p90 {StreamMetrics.Quantile(fresh, 0.9):0.0} s over {fresh.Count} promoted batches; post → promotion median {StreamMetrics.Quantile(promotedAfter, 0.5):0.0} s");
        var versions = r.Outcomes.Where(o => o.Version is not null).ToList();
        var notPromoted = versions.Where(o => o.Promotion is not ("promoted" or "approved")).GroupBy(o => o.Promotion).Select(g => $"{g.Key} {g.Count()}").ToList();
        yield return F($"training: {r.Compute.Runs} runs ({r.Compute.Modes}), {versions.Count(o => o.Promotion is "promoted" or "approved")} promoted")
            + (notPromoted.Count == 0 ? "" : $", {string.Join(", ", notPromoted)}")
            + F($", {r.Outcomes.Count(o => o.JobStatus is "failed")} jobs failed; the last version served: v{r.ServingBefore.LastOrDefault(v => v is not null)?.ToString(CultureInfo.InvariantCulture) ?? "-"}");
        if (r.Stream.LateClass is { } late && r.LateClassLag.Count > 0 && r.Stream.LateClassFirstBatch is { } first)
        {
            var counts = r.Stream.Batches.Skip(first).Take(6).Select(b => b.Column(r.Stream.LabelColumn).Count(v => v == late));
            yield return F($"new class '{late}' from batch {first}, rows per batch from then: {string.Join(", ", counts)}, …");
            yield return "new class recognized (top class on one of its rows, or mean probability > 0.1) after: "
                + string.Join("; ", r.LateClassLag.Where(kv => !kv.Key.EndsWith("(known)", StringComparison.Ordinal)).Select(kv => F($"{kv.Key} {(kv.Value is { } l ? $"{l} batch(es)" : "never")}")))
                + F($"; Ctm's serving model has the class among its outputs after {(r.LateClassLag.GetValueOrDefault("Ctm (known)") is { } k ? $"{k} batch(es)" : "never")}");
        }

        yield return QualityLine(r);
        yield return F($"took {r.Elapsed.TotalMinutes:0.0} min");
    }

    private static bool IsQuality(QualityAlarm a) => a.Kind.StartsWith("quality-", StringComparison.Ordinal);

    /// <summary>
    /// Batches from the P(y|x) change to the first batch with a ModelQualityDegraded (null: none), and the quality alarms
    /// before the change (false: nothing changed yet). Alarms after the change on other batches are not counted either way.
    /// </summary>
    public static (int? Delay, int FalseAlarms) QualityDetection(StreamResult r, int change) =>
        (r.Alarms.Where(a => IsQuality(a) && a.Batch >= change).Select(a => (int?)(a.Batch - change)).Min(), r.Alarms.Count(a => IsQuality(a) && a.Batch < change));

    /// <summary>The quality detector's alarms: on a stream without a P(y|x) change point every quality alarm is a false one.</summary>
    public static string QualityLine(StreamResult r)
    {
        var quality = r.Alarms.Where(IsQuality).ToList();
        var drift = r.Alarms.Count(a => a.Kind == "prediction-drift");
        var where = quality.Count == 0 ? "" : " at batches " + string.Join(", ", quality.GroupBy(a => a.Batch).Select(g => F($"{g.Key} ({string.Join("; ", g.Select(a => a.Slice ?? "overall"))})")));
        var head = F($"quality alarms (Trainer, test-then-train, default settings): {quality.Count} ModelQualityDegraded ({quality.Count(a => a.Kind == "quality-overall")} overall, {quality.Count(a => a.Kind == "quality-slice")} slice){where}; {drift} PredictionDriftDetected");
        if (r.Stream.Options.ConceptChangeBatch is { } change)
        {
            var (delay, falseAlarms) = QualityDetection(r, change);
            return head + F($"; P(y|x) changes at batch {change}: detection delay {(delay is { } d ? $"{d} batch(es)" : "never detected")}, {falseAlarms} false alarm(s) before it");
        }

        return head + F($"; no P(y|x) change point in this stream: {quality.Count} false alarm(s) over {r.Outcomes.Count(o => IsAccepted(o))} accepted batches");
    }

    public static string Markdown(StreamResult r, string command, string svgFile)
    {
        var md = new StringBuilder();
        var metric = r.Binary ? "AUC" : "accuracy";
        md.AppendLine(F($"# Stream benchmark: {r.Name}"));
        md.AppendLine();
        md.AppendLine(F($"`{command}`"));
        md.AppendLine();
        md.AppendLine(F($"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, commit {Commit()}, {Environment.ProcessorCount} cores. Stream: {Describe(r.Stream.Options)}; {r.Stream.Task}, ")
            + F($"{r.Stream.Batches.Count} batches, label `{r.Stream.LabelColumn}`{(r.Binary ? $" (AUC of `{r.PositiveClass}`)" : "")}; numeric {string.Join(", ", r.Stream.NumericFeatures)}; categorical {string.Join(", ", r.Stream.CategoricalFeatures)}."));
        md.AppendLine();
        md.AppendLine("The services run with their default settings; the benchmark sets only the Validator's dataset config (label column, task). "
            + "Each batch is predicted by the version serving before it arrives, then posted to Ingest; the benchmark waits until the Validator decided it and, "
            + "if accepted, the Trainer's run for it finished, the Registry decided, and the Predictor serves a promoted version. "
            + F($"The static model trains once on the first {StreamBenchmark.WarmupBatches} clean batches; the oracle trains from scratch on every clean batch before each evaluated batch ")
            + F($"(both in-process with the Trainer's engine: Adam, learning rate {Recipe.LearningRate}, {Recipe.Epochs} epochs, batches of {Recipe.BatchSize}; logistic regression and a 32-unit MLP).")); 
        md.AppendLine();
        md.AppendLine(F($"## Prequential metrics ({r.Evaluated.Count} clean batches after the first {StreamBenchmark.WarmupBatches}, {r.Ctm.Rows} rows, the same for every model)"));
        md.AppendLine();
        md.AppendLine(r.Binary ? "| model | AUC pooled | AUC mean per batch | log loss | rows without prediction | training rows × epochs |" : "| model | accuracy | | log loss | rows without prediction | training rows × epochs |");
        md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var (model, e, samples) in Rows(r))
        {
            md.AppendLine(F($"| {model} | {Show(e.Primary, "0.0000")} | {Show(e.MeanBatchAuc ?? double.NaN, "0.0000")} | {Show(e.LogLoss, "0.0000")} | {e.MissingRows} | {samples?.ToString("N0", CultureInfo.InvariantCulture) ?? "-"} |"));
        }

        md.AppendLine();
        md.AppendLine(F($"{metric} is pooled over every scored row; log loss clips probabilities at 1e-15 (a class the model cannot predict gets −ln 1e-15 ≈ 34.5); a row with no prediction (nothing serving) is scored as a uniform guess. ")
            + (r.Compute.FromTrainedSamples ? "Ctm's compute is the sum of `trainedSamples` over the Trainer's runs." : "Ctm's compute is `trainRows × epochs` summed over the Trainer's runs (they carry no `trainedSamples`)."));
        md.AppendLine();
        md.AppendLine("## Goals");
        md.AppendLine();
        md.AppendLine("| goal | measured | |");
        md.AppendLine("| --- | --- | --- |");
        foreach (var goal in Goals(r))
        {
            md.AppendLine(F($"| {goal.Text} | {goal.Measured} | **{goal.Verdict}** |"));
        }

        md.AppendLine();
        foreach (var line in Summary(r))
        {
            md.AppendLine(F($"- {line}"));
        }

        md.AppendLine();
        md.AppendLine(F($"![per-batch {metric} and log loss]({svgFile})"));
        md.AppendLine();
        md.AppendLine("## Per batch");
        md.AppendLine();
        var bestStatic = r.Static.Count > 0 ? r.BestStatic.Evaluation : null;
        var bestOracle = r.Oracle.Count > 0 ? r.BestOracle.Evaluation : null;
        md.AppendLine(F($"| batch | corruption | Validator | reasons | served before → after | Ctm {metric} | {bestStatic?.Model ?? "static"} {metric} | {bestOracle?.Model ?? "oracle"} {metric} | Ctm log loss | fresh (s) | note |"));
        md.AppendLine("| ---: | --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |");
        foreach (var o in r.Outcomes)
        {
            var after = o.Version is { } v ? F($"v{v} {o.Promotion}") : o.JobStatus is { } j ? $"job {j}" : "";
            md.AppendLine(F($"| {o.Batch} | {StreamBenchmark.Kind(r.Stream.Batches[o.Batch])} | {o.Decision} | {Cell(o.Reasons)} | v{r.ServingBefore[o.Batch]?.ToString(CultureInfo.InvariantCulture) ?? "-"} → {after} | ")
                + F($"{Show(r.Ctm.BatchMetric[o.Batch], "0.000")} | {Show(bestStatic?.BatchMetric[o.Batch] ?? double.NaN, "0.000")} | {Show(bestOracle?.BatchMetric[o.Batch] ?? double.NaN, "0.000")} | ")
                + F($"{Show(r.Ctm.BatchLogLoss[o.Batch], "0.000")} | {Show(o.FreshnessSeconds ?? double.NaN, "0.0")} | {Cell(o.Note ?? o.JobError ?? r.PredictErrors[o.Batch] ?? "")} |"));
        }

        return md.ToString();
    }

    public static string Chart(StreamResult r)
    {
        var series = new List<ChartSeries> { new("Ctm (services)", "#d9480f", r.Ctm.BatchMetric, r.Ctm.BatchLogLoss) };
        if (r.Static.Count > 0)
        {
            var s = r.BestStatic.Evaluation;
            series.Add(new ChartSeries(s.Model, "#868e96", s.BatchMetric, s.BatchLogLoss));
        }

        if (r.Oracle.Count > 0)
        {
            var o = r.BestOracle.Evaluation;
            series.Add(new ChartSeries(o.Model, "#1c7ed6", o.BatchMetric, o.BatchLogLoss));
        }

        var metric = r.Binary ? "ROC AUC per batch" : "accuracy per batch";
        return SeriesChart.Render(
            F($"{r.Name}: prequential {(r.Binary ? "AUC" : "accuracy")} {r.Ctm.Primary:0.000} (Ctm) vs static {(r.Static.Count > 0 ? r.BestStatic.Evaluation.Primary : double.NaN):0.000}, oracle {(r.Oracle.Count > 0 ? r.BestOracle.Evaluation.Primary : double.NaN):0.000}"),
            metric, r.Stream.Batches.Count, series, r.Spans, [.. r.Outcomes.Select(o => o.Decision)], r.Stream.LateClassFirstBatch, r.Stream.LateClass);
    }

    public static string Describe(StreamOptions options) =>
        F($"{options.Kind}, {options.Batches} batches × {options.RowsPerBatch} rows, seed {options.Seed}, corruptions: ")
        + (options.Corruptions.Count == 0 ? "none" : string.Join(", ", options.Corruptions.Select(c => F($"{c.Kind} over batches {c.FirstBatch}–{c.EndBatch - 1}"))))
        + (options.ConceptChangeBatch is { } change ? F($"; P(label | inputs) turns around at batch {change}") : "");

    private static string Commit()
    {
        try
        {
            using var git = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("git", "rev-parse --short HEAD")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = Ctm.Testing.TestEnvironment.RepositoryRoot,
            })!;
            var text = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 ? text : "unknown";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown (no git)";
        }
    }

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);

    private static string Show(double value, string format) => double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : "-";

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
