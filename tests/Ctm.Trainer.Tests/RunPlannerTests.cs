using Ctm.Contracts;
using Ctm.Trainer.Policies;
using Ctm.Trainer.Storage;

namespace Ctm.Trainer.Tests;

/// <summary>The policy's decisions, as pure logic: which jobs a run answers and which batches it may train on.</summary>
public sealed class RunPlannerTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Plan_EveryThreeBatchesWithSevenWaiting_TakesExactlyTheOldestThree()
    {
        var open = Enumerable.Range(1, 7).Select(i => Batch(i)).ToList();

        var plan = RunPlanner.Plan(new TrainingPolicy { Trigger = "batches", EveryBatches = 3 }, open, 7, null, Now);

        Assert.NotNull(plan);
        Assert.Equal(open.Take(3).Select(j => j.Id), plan.JobIds);
        Assert.Equal(3, plan.CutoffSeq);
    }

    [Fact]
    public void Plan_EveryThreeBatchesWithCatchUp_TakesEveryWaitingBatch()
    {
        var open = Enumerable.Range(1, 7).Select(i => Batch(i)).ToList();

        var plan = RunPlanner.Plan(new TrainingPolicy { Trigger = "batches", EveryBatches = 3, CatchUp = true }, open, 7, null, Now);

        Assert.Equal(7, plan!.JobIds.Count);
        Assert.Equal(7, plan.CutoffSeq);
    }

    [Fact]
    public void Plan_ExcludedBatchWaiting_DoesNotCountTowardTheThreshold()
    {
        List<OpenJob> open = [Batch(1), Batch(2, excluded: true), Batch(3)];

        Assert.Null(RunPlanner.Plan(new TrainingPolicy { Trigger = "batches", EveryBatches = 3 }, open, 3, null, Now));
        var plan = RunPlanner.Plan(new TrainingPolicy { Trigger = "batches", EveryBatches = 2 }, open, 3, null, Now);
        Assert.Equal(3, plan!.JobIds.Count);
    }

    [Fact]
    public void Plan_RowsTrigger_RunsWhenTheRowsAddUp()
    {
        List<OpenJob> open = [Batch(1, rows: 400), Batch(2, rows: 400), Batch(3, rows: 400)];

        var plan = RunPlanner.Plan(new TrainingPolicy { Trigger = "rows", EveryRows = 700 }, open, 3, null, Now);

        Assert.Equal(2, plan!.JobIds.Count);
        Assert.Equal(2, plan.CutoffSeq);
    }

    [Fact]
    public void Plan_Schedule_RunsOnlyOnceTheIntervalPassed()
    {
        List<OpenJob> open = [Batch(1)];
        var policy = new TrainingPolicy { Trigger = "schedule", IntervalSeconds = 60 };

        Assert.Null(RunPlanner.Plan(policy, open, 1, Now.AddSeconds(-30), Now));
        Assert.NotNull(RunPlanner.Plan(policy, open, 1, Now.AddSeconds(-61), Now));
    }

    [Fact]
    public void Plan_ManualWithARequest_AnswersEveryJobOnEveryKnownBatch()
    {
        List<OpenJob> open = [Batch(1), Batch(2), new(Guid.NewGuid(), false, null, 0, false, null, Now)];

        Assert.Null(RunPlanner.Plan(new TrainingPolicy { Trigger = "manual" }, open.Take(2).ToList(), 5, null, Now));
        var plan = RunPlanner.Plan(new TrainingPolicy { Trigger = "manual" }, open, 5, null, Now);
        Assert.Equal(3, plan!.JobIds.Count);
        Assert.Equal(5, plan.CutoffSeq);
        Assert.Equal("requested", plan.Reason);
    }

    [Fact]
    public void Plan_JobsOfADeadRun_AreRetriedOnTheSameCutoffWhateverThePolicy()
    {
        var dead = Batch(1) with { Running = true, CutoffSeq = 1 };

        var plan = RunPlanner.Plan(new TrainingPolicy { Trigger = "manual" }, [dead, Batch(2)], 2, null, Now);

        Assert.Equal([dead.Id], plan!.JobIds);
        Assert.Equal(1, plan.CutoffSeq);
        Assert.Equal("retry", plan.Reason);
    }

    [Fact]
    public void Apply_DecayWindow_HalvesTheWeightEveryHalfLife()
    {
        List<AcceptedBatch> batches = [Accepted(Now.AddHours(-4)), Accepted(Now.AddHours(-2)), Accepted(Now)];

        var (kept, weights, _) = TrainingWindow.Apply(new TrainingPolicy { Window = "decay", HalfLifeHours = 2 }, batches);

        Assert.Equal(3, kept.Count);
        Assert.Equal([0.25, 0.5, 1.0], weights!);
    }

    [Fact]
    public void Apply_LastBatchesWindow_KeepsTheNewest()
    {
        List<AcceptedBatch> batches = [Accepted(Now.AddHours(-2)), Accepted(Now.AddHours(-1)), Accepted(Now)];

        var (kept, weights, description) = TrainingWindow.Apply(new TrainingPolicy { Window = "last-batches", WindowBatches = 2 }, batches);

        Assert.Equal(batches.Skip(1), kept);
        Assert.Null(weights);
        Assert.Equal("last-batches:2", description);
    }

    [Fact]
    public void Validate_WrongTriggerAndMissingThreshold_NamesBothFields()
    {
        var errors = new TrainingPolicy { Trigger = "hourly", Window = "decay" }.Validate();

        Assert.Contains("trigger", errors.Keys);
        Assert.Contains("halfLifeHours", errors.Keys);
    }

    private static OpenJob Batch(long seq, bool excluded = false, long rows = 100) =>
        new(Guid.NewGuid(), false, seq, rows, excluded, null, Now.AddMinutes(seq));

    private static AcceptedBatch Accepted(DateTimeOffset at) => new()
    {
        BatchId = Guid.NewGuid(), Dataset = "d", Location = "x", Sha256 = "x", Features = [], LabelColumn = "y", Task = TaskKind.Binary, AcceptedAt = at,
    };
}
