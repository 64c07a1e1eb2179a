namespace Ctm.Trainer.Policies;

/// <summary>An open training job as the planner sees it.</summary>
/// <param name="Id">The job.</param>
/// <param name="Running">True when a run took it and never finished (its replica died): it is retried as it was.</param>
/// <param name="BatchSeq">The triggering batch's place in the order the Trainer learned of batches; null for a request.</param>
/// <param name="BatchRows">The triggering batch's rows.</param>
/// <param name="BatchExcluded">The triggering batch was quarantined, discarded or declared corrupt since.</param>
/// <param name="CutoffSeq">The cut-off a previous attempt took, if any.</param>
/// <param name="CreatedAt">When the job was recorded.</param>
public sealed record OpenJob(Guid Id, bool Running, long? BatchSeq, long BatchRows, bool BatchExcluded, long? CutoffSeq, DateTimeOffset CreatedAt);

/// <summary>A run to do now: the jobs it answers, and the last batch (in the Trainer's order) it may train on.</summary>
public sealed record RunPlan(IReadOnlyList<Guid> JobIds, long CutoffSeq, string Reason);

/// <summary>Decides from a dataset's policy and open jobs whether a run is due, and which jobs and batches it takes.</summary>
public static class RunPlanner
{
    /// <param name="policy">The dataset's policy.</param>
    /// <param name="open">Its open jobs.</param>
    /// <param name="newestSeq">The newest batch the Trainer knows of for the dataset.</param>
    /// <param name="lastRunAt">When the dataset's last run finished, or null.</param>
    /// <param name="now">Now.</param>
    public static RunPlan? Plan(TrainingPolicy policy, IReadOnlyList<OpenJob> open, long newestSeq, DateTimeOffset? lastRunAt, DateTimeOffset now)
    {
        // A run that started and never finished was already decided: retry it on the same batches.
        var running = open.Where(j => j.Running).ToList();
        if (running.Count > 0)
        {
            return new RunPlan([.. running.Select(j => j.Id)], running.Max(j => j.CutoffSeq ?? newestSeq), "retry");
        }

        // A request trains now, on everything known, and answers every waiting batch with it.
        if (open.Any(j => j.BatchSeq is null))
        {
            return new RunPlan([.. open.Select(j => j.Id)], newestSeq, "requested");
        }

        var waiting = open.OrderBy(j => j.BatchSeq).ToList();
        var fresh = waiting.Where(j => !j.BatchExcluded).ToList();
        if (fresh.Count == 0)
        {
            return null;
        }

        switch (policy.Trigger)
        {
            case "batches":
                return TakeUntil(waiting, policy.CatchUp, (count, _) => count >= policy.EveryBatches, "every-batches");
            case "rows":
                return TakeUntil(waiting, policy.CatchUp, (_, rows) => rows >= policy.EveryRows, "every-rows");
            case "schedule":
                var since = lastRunAt ?? waiting.Min(j => j.CreatedAt);
                return now - since >= TimeSpan.FromSeconds(policy.IntervalSeconds) ? All(waiting, "schedule") : null;
            default:
                return null;
        }
    }

    private static RunPlan? TakeUntil(List<OpenJob> waiting, bool catchUp, Func<int, long, bool> reached, string reason)
    {
        int count = 0;
        long rows = 0;
        for (var i = 0; i < waiting.Count; i++)
        {
            if (!waiting[i].BatchExcluded)
            {
                count++;
                rows += waiting[i].BatchRows;
            }

            if (reached(count, rows))
            {
                // Exactly the threshold: version k is trained on the batches up to the k-th threshold, whatever the timing.
                return catchUp ? All(waiting, reason) : new RunPlan([.. waiting.Take(i + 1).Select(j => j.Id)], waiting[i].BatchSeq!.Value, reason);
            }
        }

        return null;
    }

    private static RunPlan All(List<OpenJob> waiting, string reason) =>
        new([.. waiting.Select(j => j.Id)], waiting.Max(j => j.BatchSeq!.Value), reason);
}
