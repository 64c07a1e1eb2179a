using Ctm.Ml.Engine;

namespace Ctm.Ml.Continual;

/// <summary>Whether a run retrains from scratch or updates its parent, and why.</summary>
/// <param name="Full">True for a full retrain (a fresh model), false for a warm update of the parent.</param>
/// <param name="Reason">Why, in words (recorded with the run).</param>
/// <param name="Fresh">When the data itself forces a fresh model (a new class, changed features): what changed; else null.</param>
public sealed record RecipePlan(bool Full, string Reason, string? Fresh = null);

/// <summary>What a recipe run produced and what it cost.</summary>
/// <param name="Model">The model (calibrated when the recipe calibrates).</param>
/// <param name="Plan">Full retrain or warm update, and why (a warm update that fell back says so).</param>
/// <param name="TrainRows">Rows trained on: new rows (less validation) plus replay, or the full window.</param>
/// <param name="ReplayRows">Rows replayed from the window in a warm update.</param>
/// <param name="ValidationRows">New rows held out for early stopping and calibration.</param>
/// <param name="TrainedSamples">Rows processed, all attempts of this run together: training rows × epochs run, validation passes, calibration.</param>
/// <param name="UpdatesSinceFull">Warm updates in a row ending with this model (0 after a full retrain).</param>
/// <param name="WindowRowsAtFull">Rows in the window (new and older) when the last full retrain of this chain ran.</param>
public sealed record RecipeResult(
    TrainedModel Model, RecipePlan Plan, int TrainRows, int ReplayRows, int ValidationRows, long TrainedSamples, int UpdatesSinceFull,
    long WindowRowsAtFull = 0);

/// <summary>
/// The continual-training recipe: a full retrain (early stopping on held-out new rows, cosine learning rate, weight
/// decay, calibration) when there is no usable parent, the data changed shape, or the warm chain is due for a fresh
/// start; otherwise a warm update, a few epochs on the new rows plus a replay sample of older rows, kept only when
/// it beats the parent on the held-out new rows. The same code serves the Trainer and in-process simulations.
/// </summary>
public sealed class ContinualRecipe(ITrainingEngine engine, RecipeOptions options)
{
    /// <summary>The settings.</summary>
    public RecipeOptions Options { get; } = options;

    /// <summary>Decides between a full retrain and a warm update, before any training.</summary>
    /// <param name="parent">The model to continue from, or null.</param>
    /// <param name="updatesSinceFull">Warm updates in a row that led to the parent.</param>
    /// <param name="fresh">The new rows (with labels).</param>
    /// <param name="windowRows">Rows in the window now (new and older); 0 when unknown.</param>
    /// <param name="windowRowsAtFull">Rows in the window at the chain's last full retrain; 0 when unknown.</param>
    public RecipePlan Plan(ModelState? parent, int updatesSinceFull, TabularDataset fresh, long windowRows = 0, long windowRowsAtFull = 0)
    {
        ArgumentNullException.ThrowIfNull(fresh);
        if (parent is null)
        {
            return new(true, "no parent model");
        }

        if (parent.Task != Options.Task)
        {
            return new(true, $"task changed from {parent.Task} to {Options.Task}", $"task {Options.Task}");
        }

        var added = fresh.Features.Where(f => !parent.Features.Contains(f)).Select(f => f.Name).ToList();
        var removed = parent.Features.Where(f => !fresh.Features.Contains(f)).Select(f => f.Name).ToList();
        if (added.Count > 0 || removed.Count > 0)
        {
            var change = string.Join("; ", new[]
            {
                added.Count > 0 ? $"new feature{(added.Count > 1 ? "s" : "")} {string.Join(", ", added.Select(a => $"'{a}'"))}" : null,
                removed.Count > 0 ? $"feature{(removed.Count > 1 ? "s" : "")} {string.Join(", ", removed.Select(a => $"'{a}'"))} gone" : null,
            }.Where(x => x is not null));
            return new(true, $"features changed ({change})", change);
        }

        if (Options.Task != ModelTask.Regression && fresh.ClassLabels is { } labels)
        {
            var known = new HashSet<string>(parent.Classes, StringComparer.Ordinal);
            var unseen = labels.Where(l => !string.IsNullOrEmpty(l) && !known.Contains(l)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            if (unseen.Count > 0)
            {
                var names = string.Join(", ", unseen.Select(c => $"'{c}'"));
                return new(true, $"new class {names} (the parent predicts only {parent.Classes.Length})", $"new class {names}");
            }
        }

        if (updatesSinceFull >= Options.FullRetrainEvery)
        {
            return new(true, $"scheduled: {updatesSinceFull} warm updates since the last full retrain");
        }

        // Early in a stream the first models saw a few hundred rows: refit each time the data has doubled (cheap while
        // the window is small, and a fit on twice the data beats a chain of updates to a fit on half of it).
        if (Options.GrowthMinRows > 0 && windowRowsAtFull > 0 && windowRows >= 2 * windowRowsAtFull && windowRows >= Options.GrowthMinRows
            && (Options.MaxFullRows == 0 || windowRowsAtFull < Options.MaxFullRows))
        {
            return new(true, $"growth: the window grew from {windowRowsAtFull} to {windowRows} rows since the last full retrain");
        }

        return new(false, "warm update");
    }

    /// <summary>Trains per <see cref="Plan"/>.</summary>
    /// <param name="fresh">Rows new since the parent (for a first model: the newest batch).</param>
    /// <param name="history">Older rows of the window, oldest first, or null.</param>
    /// <param name="parent">The model to continue from, or null.</param>
    /// <param name="updatesSinceFull">Warm updates in a row that led to the parent.</param>
    /// <param name="seed">Seeds the validation split, the replay sample and training (vary it per run).</param>
    /// <param name="windowRowsAtFull">Rows in the window at the chain's last full retrain (<see cref="RecipeResult.WindowRowsAtFull"/> of the parent's run); 0 when unknown.</param>
    /// <param name="forceFull">A full retrain whatever the plan says, with this reason (e.g. an operator asked).</param>
    /// <param name="progress">Training progress.</param>
    /// <param name="cancellationToken">Stops training between batches.</param>
    /// <exception cref="ArgumentException">The data or settings are unusable.</exception>
    public RecipeResult Train(
        TabularDataset fresh, TabularDataset? history, ModelState? parent, int updatesSinceFull, int seed,
        string? forceFull = null, IProgress<TrainingProgress>? progress = null, long windowRowsAtFull = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(fresh);
        Options.Validate();
        long windowRows = fresh.RowCount + (history?.RowCount ?? 0);
        var plan = forceFull is not null ? new RecipePlan(true, forceFull) : Plan(parent, updatesSinceFull, fresh, windowRows, windowRowsAtFull);
        var (validation, freshTrain) = SplitValidation(fresh, seed);
        if (!plan.Full)
        {
            var update = WarmUpdate(freshTrain, validation, history, parent!, seed, progress, cancellationToken);
            if (validation is null)
            {
                return update with { UpdatesSinceFull = updatesSinceFull + 1, WindowRowsAtFull = windowRowsAtFull };
            }

            var (loss, checkedRows) = update.Model.Calibration is { } calibration ? (calibration.LogLossAfter, 0) : (ValidationLogLoss(update.Model, validation), validation.RowCount);
            update = update with { TrainedSamples = update.TrainedSamples + checkedRows };
            if (loss <= PriorLogLoss(Concat(freshTrain, history), validation) + Options.DriftMargin)
            {
                return update with { UpdatesSinceFull = updatesSinceFull + 1, WindowRowsAtFull = windowRowsAtFull };
            }

            // The chain lost its way on these rows (it predicts worse than the class frequencies): start over.
            var full = FullRetrain(freshTrain, validation, history, seed, progress, cancellationToken);
            return full with
            {
                Plan = new RecipePlan(true, "drift: the warm update scored clearly worse than the class prior on the new rows"),
                TrainedSamples = full.TrainedSamples + update.TrainedSamples,
                WindowRowsAtFull = windowRows,
            };
        }

        return FullRetrain(freshTrain, validation, history, seed, progress, cancellationToken) with { Plan = plan, WindowRowsAtFull = windowRows };
    }

    private RecipeResult FullRetrain(
        TabularDataset freshTrain, TabularDataset? validation, TabularDataset? history, int seed,
        IProgress<TrainingProgress>? progress, CancellationToken ct)
    {
        var older = history;
        if (older is not null && Options.MaxFullRows > 0 && older.RowCount + freshTrain.RowCount > Options.MaxFullRows)
        {
            var keep = Math.Max(0, Options.MaxFullRows - freshTrain.RowCount);
            older = keep == 0 ? null : older.Take([.. Enumerable.Range(older.RowCount - keep, keep)]);
        }

        // A hundred new rows are too few to pick the epoch of a fit on thousands: older rows join the validation set.
        if (older is not null && validation is not null && Options.FullValidationFraction > 0)
        {
            var (extra, rest) = Split(older, (int)Math.Round(older.RowCount * Options.FullValidationFraction), seed ^ 0x0DD);
            if (extra is not null)
            {
                (validation, older) = (TabularDataset.Concat([validation, extra]), rest);
            }
        }

        var train = Concat(freshTrain, older);
        var trainingOptions = new TrainingOptions
        {
            Task = Options.Task,
            HiddenLayers = Options.HiddenLayers,
            Epochs = Options.FullEpochs,
            BatchSize = Options.BatchSize,
            LearningRate = Options.FullLearningRate,
            Schedule = LearningRateSchedule.Cosine,
            WeightDecay = Options.WeightDecay,
            EarlyStoppingPatience = Options.Patience,
            Calibrate = Options.Calibrate,
            MinCategoryCount = Options.MinCategoryCount,
            Seed = seed,
            MaxThreads = Options.MaxThreads,
        };
        var model = engine.Fit(train, validation, trainingOptions, null, progress, ct);
        return new RecipeResult(model, new RecipePlan(true, "full"), train.RowCount, 0, model.ValidationRows, model.RunSamples, 0);
    }

    private RecipeResult WarmUpdate(
        TabularDataset freshTrain, TabularDataset? validation, TabularDataset? history, ModelState parent, int seed,
        IProgress<TrainingProgress>? progress, CancellationToken ct)
    {
        var replayCount = history is null ? 0 : (int)Math.Min(history.RowCount, Math.Round(Options.ReplayRatio * freshTrain.RowCount));
        var train = freshTrain;
        if (replayCount > 0)
        {
            train = TabularDataset.Concat([freshTrain, history!.Take(Sample(history.RowCount, replayCount, seed ^ 0x5EED))]);
        }

        var trainingOptions = new TrainingOptions
        {
            Task = Options.Task,
            HiddenLayers = parent.HiddenLayers,
            Epochs = Options.UpdateEpochs,
            BatchSize = Options.BatchSize,
            LearningRate = Options.UpdateLearningRate,
            Schedule = LearningRateSchedule.Cosine,
            WeightDecay = Options.WeightDecay,
            EarlyStoppingPatience = 1,
            Calibrate = Options.Calibrate && Options.CalibrateUpdates,
            MinCategoryCount = Options.MinCategoryCount,
            Seed = seed,
            MaxThreads = Options.MaxThreads,
        };
        var model = engine.Fit(train, validation, trainingOptions, parent, progress, ct);
        return new RecipeResult(model, new RecipePlan(false, "warm update"), train.RowCount, replayCount, model.ValidationRows, model.RunSamples, 0);
    }

    /// <summary>A random share of the new rows for validation, or none when there are too few.</summary>
    private (TabularDataset? Validation, TabularDataset Train) SplitValidation(TabularDataset fresh, int seed)
    {
        if (Options.ValidationFraction <= 0 || fresh.RowCount < 2 * Options.MinValidationRows)
        {
            return (null, fresh);
        }

        var count = Math.Clamp((int)Math.Round(fresh.RowCount * Options.ValidationFraction), Options.MinValidationRows, fresh.RowCount / 2);
        return Split(fresh, count, seed);
    }

    /// <summary><paramref name="count"/> random rows of <paramref name="data"/>, and the rest (both in row order).</summary>
    private static (TabularDataset? Chosen, TabularDataset Remainder) Split(TabularDataset data, int count, int seed)
    {
        if (count <= 0 || count >= data.RowCount)
        {
            return (null, data);
        }

        var chosen = Sample(data.RowCount, count, seed);
        var isChosen = new bool[data.RowCount];
        foreach (var r in chosen)
        {
            isChosen[r] = true;
        }

        return (data.Take(chosen), data.Take([.. Enumerable.Range(0, data.RowCount).Where(r => !isChosen[r])]));
    }

    /// <summary><paramref name="count"/> distinct row indices of <paramref name="rows"/>, in row order.</summary>
    private static int[] Sample(int rows, int count, int seed)
    {
        var order = Enumerable.Range(0, rows).ToArray();
        new Rng((ulong)(uint)seed * 0x9E3779B97F4A7C15UL).Shuffle(order);
        var chosen = order[..count];
        Array.Sort(chosen);
        return chosen;
    }

    private static TabularDataset Concat(TabularDataset fresh, TabularDataset? history) =>
        history is null || history.RowCount == 0 ? fresh : TabularDataset.Concat([history, fresh]);

    /// <summary>The model's mean log loss on the validation rows (regression: −∞, so the drift check never fires).</summary>
    private double ValidationLogLoss(TrainedModel model, TabularDataset validation) =>
        Options.Task == ModelTask.Regression
            ? double.NegativeInfinity
            : Evaluator.Evaluate(model.Predict(validation, Options.MaxThreads), validation, topValuesPerFeature: 0).Overall.LogLoss ?? double.NegativeInfinity;

    /// <summary>Log loss on the validation rows of predicting the training rows' class frequencies (regression: +∞, no check).</summary>
    private double PriorLogLoss(TabularDataset train, TabularDataset validation)
    {
        if (Options.Task == ModelTask.Regression || train.ClassLabels is not { } labels || validation.ClassLabels is not { } truth)
        {
            return double.PositiveInfinity;
        }

        var counts = labels.Where(l => l is not null).GroupBy(l => l!, StringComparer.Ordinal).ToDictionary(g => g.Key, g => (double)g.Count(), StringComparer.Ordinal);
        var total = counts.Values.Sum() + counts.Count;
        return truth.Average(t => -Math.Log(((t is not null ? counts.GetValueOrDefault(t) : 0) + 1) / total));
    }
}
