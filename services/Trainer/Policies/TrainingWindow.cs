using System.Globalization;
using Ctm.Trainer.Storage;

namespace Ctm.Trainer.Policies;

/// <summary>Which of the clean batches a run trains on, and with what weight.</summary>
public static class TrainingWindow
{
    /// <param name="policy">The dataset's policy.</param>
    /// <param name="batches">Clean batches of one schema, oldest first.</param>
    /// <returns>The batches, a weight per batch (null when all weigh 1), and a description for the run's record.</returns>
    public static (IReadOnlyList<AcceptedBatch> Batches, IReadOnlyList<double>? Weights, string Description) Apply(TrainingPolicy policy, IReadOnlyList<AcceptedBatch> batches)
    {
        switch (policy.Window)
        {
            case "last-batches":
                var n = Math.Max(1, policy.WindowBatches);
                return ([.. batches.Skip(Math.Max(0, batches.Count - n))], null, $"last-batches:{n}");
            case "decay":
                var newest = batches[^1].AcceptedAt;
                var weights = batches.Select(b => Math.Pow(0.5, Math.Max(0, (newest - b.AcceptedAt).TotalHours) / policy.HalfLifeHours)).ToArray();
                return (batches, weights, $"decay:half-life={policy.HalfLifeHours.ToString(CultureInfo.InvariantCulture)}h");
            default:
                return (batches, null, "all");
        }
    }
}
