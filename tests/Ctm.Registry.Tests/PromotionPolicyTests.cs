using Ctm.Registry.Policies;

namespace Ctm.Registry.Tests;

public sealed class PromotionPolicyTests
{
    private static readonly PolicySettings Auto = new(PolicySettings.Auto, 0.02, null);
    private static readonly ServingVersion Serving = new(3, new Dictionary<string, double> { ["accuracy"] = 0.90, ["rmse"] = 1.0 });

    private static Candidate Candidate(double accuracy, Dictionary<string, double>? baseline = null, int? baselineVersion = null, string task = "binary") =>
        new(4, task, new Dictionary<string, double> { ["accuracy"] = accuracy, ["rmse"] = accuracy }, baseline, baselineVersion, null, null);

    [Fact]
    public void Decide_NothingServing_PromotesAsFirstVersion()
    {
        var verdict = PromotionPolicy.Decide(Candidate(0.5), null, Auto);
        Assert.Equal((Verdict.Promoted, "first-version"), (verdict.Decision, verdict.Basis));
    }

    [Fact]
    public void Decide_WithinTolerance_Promotes_WithItsNumbers()
    {
        var verdict = PromotionPolicy.Decide(Candidate(0.885), Serving, Auto);
        Assert.Equal(Verdict.Promoted, verdict.Decision);
        Assert.Equal(("recorded-metrics", "accuracy", 0.885, 0.90, 3), (verdict.Basis, verdict.Metric, verdict.CandidateValue!.Value, verdict.BaselineValue!.Value, verdict.BaselineVersion!.Value));
    }

    [Fact]
    public void Decide_WorseThanTolerance_Rejects()
    {
        Assert.Equal(Verdict.Rejected, PromotionPolicy.Decide(Candidate(0.87), Serving, Auto).Decision);
    }

    [Fact]
    public void Decide_SameHoldoutBaseline_IsPreferredOverRecordedMetrics()
    {
        // On the candidate's own rows the serving model scores 0.80, so 0.85 is better there, though below its recorded 0.90.
        var verdict = PromotionPolicy.Decide(Candidate(0.85, new() { ["accuracy"] = 0.80 }, 3), Serving, Auto);
        Assert.Equal((Verdict.Promoted, "same-holdout", 0.80), (verdict.Decision, verdict.Basis, verdict.BaselineValue!.Value));
    }

    [Fact]
    public void Decide_BaselineOfAnotherVersion_FallsBackToRecordedMetrics()
    {
        var verdict = PromotionPolicy.Decide(Candidate(0.85, new() { ["accuracy"] = 0.80 }, 2), Serving, Auto);
        Assert.Equal((Verdict.Rejected, "recorded-metrics"), (verdict.Decision, verdict.Basis));
    }

    [Fact]
    public void Decide_Regression_LowerRmseIsBetter()
    {
        Assert.Equal(Verdict.Promoted, PromotionPolicy.Decide(Candidate(0.9, task: "regression"), Serving, Auto).Decision);
        Assert.Equal(Verdict.Rejected, PromotionPolicy.Decide(Candidate(1.1, task: "regression"), Serving, Auto).Decision);
    }

    [Fact]
    public void Decide_ManualPolicy_WaitsEvenWhenBetter()
    {
        var verdict = PromotionPolicy.Decide(Candidate(0.99), Serving, new PolicySettings(PolicySettings.Manual, 0.02, null));
        Assert.Equal(Verdict.Pending, verdict.Decision);
        Assert.Equal(0.99, verdict.CandidateValue);
    }

    [Fact]
    public void Decide_NoMetrics_Waits()
    {
        var verdict = PromotionPolicy.Decide(new Candidate(4, "binary", null, null, null, null, null), Serving, Auto);
        Assert.Equal((Verdict.Pending, "none"), (verdict.Decision, verdict.Basis));
    }

    [Fact]
    public void Decide_TaintedOrStale_NeverPromotes()
    {
        Assert.Equal(Verdict.Tainted, PromotionPolicy.Decide(Candidate(0.99) with { TaintReason = "x" }, Serving, Auto).Decision);
        Assert.Equal(Verdict.Stale, PromotionPolicy.Decide(Candidate(0.99) with { StaleReason = "y" }, Serving, Auto).Decision);
        Assert.Equal(Verdict.Tainted, PromotionPolicy.Decide(Candidate(0.99) with { TaintReason = "x" }, null, Auto).Decision);
    }
}
