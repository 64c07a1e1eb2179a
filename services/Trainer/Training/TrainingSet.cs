using Ctm.Contracts;
using Ctm.Ml;
using Ctm.Trainer.Storage;

namespace Ctm.Trainer.Training;

/// <summary>
/// The data of one run: the batches in its window (oldest first, in the order the Trainer learned of them), their
/// rows, and a weight per batch when the window decays with age.
/// </summary>
public sealed record TrainingSet(
    IReadOnlyList<AcceptedBatch> Batches,
    int SchemaVersion,
    IReadOnlyList<FeatureSpec> Features,
    string LabelColumn,
    ModelTask Task,
    TaskKind TaskKind,
    IReadOnlyList<TabularDataset> Parts,
    IReadOnlyList<double>? Weights,
    string Window)
{
    public int RowCount => Parts.Sum(p => p.RowCount);

    public AcceptedBatch Newest => Batches[^1];

    /// <summary>
    /// Holds out the newest rows of the newest batch (its tail: rows keep their upload order), so a model is judged
    /// on the freshest data, which it never trained on. The rest of that batch is trained on, so the batch belongs to
    /// the version's lineage; its held-out rows are trained on by the next run, when a newer batch is the fresh one.
    /// With too few rows to spare, there is no holdout and the model is evaluated on its training rows.
    /// </summary>
    public (TabularDataset Train, TabularDataset Evaluation, int HeldOut) Split(double fraction)
    {
        var newest = Parts[^1];
        var heldOut = RowCount >= 20 && fraction > 0 ? (int)Math.Round(newest.RowCount * fraction) : 0;
        if (heldOut < 1 || heldOut >= newest.RowCount)
        {
            return (Combine(Parts, Weights), TabularDataset.Concat(Parts), 0);
        }

        var keep = newest.RowCount - heldOut;
        var head = newest.Take([.. Enumerable.Range(0, keep)]);
        var tail = newest.Take([.. Enumerable.Range(keep, heldOut)]);
        return (Combine([.. Parts.Take(Parts.Count - 1), head], Weights), tail, heldOut);
    }

    /// <summary>
    /// The recipe's view of the run's data: the evaluation tail of the newest batch held out as in <see cref="Split"/>,
    /// the rest divided into rows new since the parent (<paramref name="isFresh"/> batches; the newest batch when none
    /// is) and the older rows of the window (with the window's weights), oldest first.
    /// </summary>
    public (TabularDataset Fresh, TabularDataset? History, TabularDataset Evaluation, int HeldOut) SplitForRecipe(double fraction, Func<Guid, bool> isFresh)
    {
        var (_, evaluation, heldOut) = Split(fraction);
        var parts = Parts.ToList();
        if (heldOut > 0)
        {
            parts[^1] = parts[^1].Take([.. Enumerable.Range(0, parts[^1].RowCount - heldOut)]);
        }

        var weighted = Weights is null ? parts : [.. parts.Select((p, i) => WithWeight(p, Weights[i]))];
        var fresh = Enumerable.Range(0, parts.Count).Where(i => isFresh(Batches[i].BatchId)).ToList();
        if (fresh.Count == 0)
        {
            fresh = [parts.Count - 1];
        }

        var older = Enumerable.Range(0, parts.Count).Except(fresh).ToList();
        return (
            TabularDataset.Concat([.. fresh.Select(i => weighted[i])]),
            older.Count == 0 ? null : TabularDataset.Concat([.. older.Select(i => weighted[i])]),
            evaluation, heldOut);
    }

    private static TabularDataset Combine(IReadOnlyList<TabularDataset> parts, IReadOnlyList<double>? weights) =>
        TabularDataset.Concat(weights is null ? parts : [.. parts.Select((p, i) => WithWeight(p, weights[i]))]);

    private static TabularDataset WithWeight(TabularDataset part, double weight)
    {
        var builder = TabularDataset.CreateBuilder();
        foreach (var f in part.Features)
        {
            if (f.Kind == FeatureKind.Numeric)
            {
                builder.AddNumeric(f.Name, part.GetNumeric(f.Name));
            }
            else
            {
                builder.AddCategorical(f.Name, part.GetCategorical(f.Name));
            }
        }

        if (part.NumericLabels is { } numeric)
        {
            builder.WithLabel(part.LabelName!, numeric);
        }
        else
        {
            builder.WithLabel(part.LabelName!, part.ClassLabels!);
        }

        return builder.WithWeights([.. Enumerable.Repeat(weight, part.RowCount)]).Build();
    }
}
