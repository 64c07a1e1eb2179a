using System.Diagnostics;
using Ctm.Ml.Data;

namespace Ctm.Ml.Engine;

/// <summary>
/// Takes optimizer steps on one batch of the encoded data. The engines differ only here: where the step runs and
/// where the weights live between steps.
/// </summary>
internal interface IStepRunner : IDisposable
{
    /// <summary>The rate of the next steps (a schedule sets it before each step).</summary>
    double LearningRate { get; set; }

    /// <summary>Trains on rows <c>order[start..start+count)</c>; returns Σ weight·loss and Σ weight of its rows (loss before the update).</summary>
    (double Loss, double Weight) Step(int[] order, int start, int count);

    /// <summary>Brings the network's host arrays up to date with the latest step (a no-op where they are the weights).</summary>
    void SyncNetwork();
}

/// <summary>
/// The epoch loop every engine shares: shuffling, the learning-rate schedule, progress, validation with early
/// stopping and best-epoch restore, calibration, and the warm-up estimate. One loop, so the engines differ only
/// in how a step is computed, never in what a run means.
/// </summary>
internal static class TrainingLoop
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan UntimedWarmup = TimeSpan.FromMilliseconds(150);
    private const int EstimateSampleRows = 100_000;

    public static TrainedModel Fit(
        string engineName, TabularDataset train, TabularDataset? validation, TrainingOptions options, ModelState? warmStart,
        IProgress<TrainingProgress>? progress, Func<Network, EncodedData, IStepRunner> createRunner, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var (prep, data, net) = ManagedTrainingEngine.Prepare(train, options, warmStart);
        double? initialLoss = warmStart is null ? null : ManagedTrainingEngine.MeanLoss(net, data, options);
        var check = validation is null ? null : EncodeValidation(prep, validation);
        long samples = 0;

        using var run = createRunner(net, data);
        var order = Enumerable.Range(0, data.Rows).ToArray();
        var rng = new Rng(((ulong)options.Seed * 0x9E3779B97F4A7C15) ^ 0x5DEECE66D);
        var batchesPerEpoch = (data.Rows + options.BatchSize - 1) / options.BatchSize;
        var schedule = new StepSchedule(options, batchesPerEpoch);
        var curve = new List<double>(options.Epochs);
        var validationCurve = new List<double>(options.Epochs);
        var best = (Epoch: 0, Loss: double.PositiveInfinity);
        float[][]? bestW = null, bestB = null;
        if (check is not null && warmStart is not null)
        {
            // The parent itself competes: an update that only makes the fresh rows worse is not kept.
            best = (0, ManagedTrainingEngine.MeanLoss(net, check, options));
            samples += check.Rows;
            (bestW, bestB) = Snapshot(net, null, null);
        }

        var trainClock = Stopwatch.StartNew();
        var lastReport = TimeSpan.Zero;
        var step = 0;
        for (var epoch = 1; epoch <= options.Epochs; epoch++)
        {
            rng.Shuffle(order);
            double lossSum = 0, weightSum = 0;
            for (var b = 0; b < batchesPerEpoch; b++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var start = b * options.BatchSize;
                var count = Math.Min(options.BatchSize, data.Rows - start);
                run.LearningRate = schedule.At(step++);
                var (loss, weight) = run.Step(order, start, count);
                lossSum += loss;
                weightSum += weight;
                samples += count;
                var elapsed = trainClock.Elapsed;
                var last = b == batchesPerEpoch - 1;
                if (progress is not null && (last || elapsed - lastReport >= ProgressInterval))
                {
                    lastReport = elapsed;
                    var rate = samples / Math.Max(elapsed.TotalSeconds, 1e-9);
                    var remaining = Math.Max(0, ((long)options.Epochs * data.Rows) - samples) / rate;
                    progress.Report(new TrainingProgress(
                        epoch, options.Epochs, b + 1, batchesPerEpoch, lossSum / Math.Max(weightSum, 1e-30), rate,
                        clock.Elapsed, TimeSpan.FromSeconds(remaining)));
                }
            }

            var epochLoss = lossSum / Math.Max(weightSum, 1e-30);
            if (!double.IsFinite(epochLoss))
            {
                throw new ArithmeticException($"Training diverged in epoch {epoch} (loss {epochLoss}); lower the learning rate.");
            }

            curve.Add(epochLoss);
            if (check is null)
            {
                continue;
            }

            run.SyncNetwork();
            var validationLoss = ManagedTrainingEngine.MeanLoss(net, check, options);
            samples += check.Rows;
            validationCurve.Add(validationLoss);
            if (validationLoss < best.Loss)
            {
                best = (epoch, validationLoss);
                (bestW, bestB) = Snapshot(net, bestW, bestB);
            }
            else if (options.EarlyStoppingPatience > 0 && epoch - best.Epoch >= options.EarlyStoppingPatience)
            {
                break;
            }
        }

        run.SyncNetwork();
        if (bestW is not null && best.Epoch != curve.Count)
        {
            Restore(net, bestW, bestB!);
        }

        Calibration? calibration = null;
        if (check is not null && options.Calibrate && prep.Task != ModelTask.Regression)
        {
            calibration = Calibrator.Fit(net, check);
            samples += check.Rows;
            calibration.FoldInto(net);
        }

        var seconds = trainClock.Elapsed.TotalSeconds;
        var state = ManagedTrainingEngine.ToState(prep, net, (warmStart?.TrainedSamples ?? 0) + samples);
        return new TrainedModel(state, curve, engineName, clock.Elapsed, samples / Math.Max(seconds, 1e-9), initialLoss)
        {
            ValidationCurve = validationCurve,
            BestEpoch = check is null ? curve.Count : best.Epoch,
            RunSamples = samples,
            ValidationRows = check?.Rows ?? 0,
            Calibration = calibration,
        };
    }

    public static TrainingEstimate Estimate(
        TabularDataset train, TrainingOptions options, ModelState? warmStart, TimeSpan? warmup,
        Func<Network, EncodedData, IStepRunner> createRunner, CancellationToken cancellationToken)
    {
        var budget = warmup ?? TimeSpan.FromMilliseconds(400);
        var process = Process.GetCurrentProcess();
        // A big dataset is sampled (evenly spaced rows) so the estimate stays short; preparation time scales with rows.
        var sample = train.RowCount <= EstimateSampleRows
            ? train
            : train.Take([.. Enumerable.Range(0, EstimateSampleRows).Select(i => (int)((long)i * train.RowCount / EstimateSampleRows))]);
        var prepClock = Stopwatch.StartNew();
        var (_, data, net) = ManagedTrainingEngine.Prepare(sample, options, warmStart);
        var prepTime = prepClock.Elapsed * ((double)train.RowCount / sample.RowCount);

        using var run = createRunner(net, data);
        var order = Enumerable.Range(0, data.Rows).ToArray();
        new Rng((ulong)options.Seed).Shuffle(order);
        run.LearningRate = options.LearningRate;
        var batches = (data.Rows + options.BatchSize - 1) / options.BatchSize;

        // Untimed batches first: the runtime recompiles hot code about 100 ms after first use (tiered JIT), and
        // that start-up is not what the full run's hours will look like.
        var b = 0;
        for (var untimed = Stopwatch.StartNew(); untimed.Elapsed < UntimedWarmup; b = (b + 1) % batches)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var first = b * options.BatchSize;
            run.Step(order, first, Math.Min(options.BatchSize, data.Rows - first));
        }

        process.Refresh();
        var cpuStart = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        long samples = 0;
        for (; clock.Elapsed < budget; b = (b + 1) % batches)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var start = b * options.BatchSize;
            var count = Math.Min(options.BatchSize, data.Rows - start);
            run.Step(order, start, count);
            samples += count;
        }

        var wall = clock.Elapsed;
        process.Refresh();
        var cpu = (process.TotalProcessorTime - cpuStart).TotalSeconds;
        var rate = samples / wall.TotalSeconds;
        var projected = prepTime + TimeSpan.FromSeconds((double)options.Epochs * train.RowCount / rate);
        return new TrainingEstimate(
            rate, Math.Clamp(cpu / wall.TotalSeconds / Environment.ProcessorCount, 0, 1), process.PeakWorkingSet64,
            projected, wall, samples, net.ParameterCount);
    }

    /// <summary>Validation rows the model can score: rows whose class the training data does not have are left out.</summary>
    private static EncodedData? EncodeValidation(Preprocessing prep, TabularDataset validation)
    {
        if (validation.RowCount == 0)
        {
            return null;
        }

        if (prep.Task != ModelTask.Regression && validation.ClassLabels is { } labels)
        {
            var known = new HashSet<string>(prep.Classes, StringComparer.Ordinal);
            var keep = Enumerable.Range(0, labels.Length).Where(r => labels[r] is { } l && known.Contains(l)).ToArray();
            if (keep.Length == 0)
            {
                return null;
            }

            if (keep.Length < labels.Length)
            {
                validation = validation.Take(keep);
            }
        }

        return prep.Encode(validation, withLabels: true);
    }

    private static (float[][] W, float[][] B) Snapshot(Network net, float[][]? w, float[][]? b)
    {
        w ??= [.. net.W.Select(x => new float[x.Length])];
        b ??= [.. net.B.Select(x => new float[x.Length])];
        for (var l = 0; l < net.Layers; l++)
        {
            net.W[l].CopyTo(w[l], 0);
            net.B[l].CopyTo(b[l], 0);
        }

        return (w, b);
    }

    private static void Restore(Network net, float[][] w, float[][] b)
    {
        for (var l = 0; l < net.Layers; l++)
        {
            w[l].CopyTo(net.W[l], 0);
            b[l].CopyTo(net.B[l], 0);
        }

        net.RefreshTransposes();
    }
}
