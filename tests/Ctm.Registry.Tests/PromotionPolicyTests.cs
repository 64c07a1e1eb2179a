using Ctm.Contracts;
using Ctm.Registry.Policies;

namespace Ctm.Registry.Tests;

public sealed class PromotionPolicyTests
{
    // The older rules, on accuracy with an absolute tolerance (no row count, so no noise band).
    private static readonly PolicySettings Auto = new(PolicySettings.Auto, 0.02, "accuracy");
    private static readonly ServingVersion Serving = new(3, new Dictionary<string, double> { ["accuracy"] = 0.90, ["rmse"] = 1.0 });

    private static Candidate Candidate(double accuracy, Dictionary<string, double>? baseline = null, int? baselineVersion = null, TaskKind task = TaskKind.Binary) =>
        new(4, task, new Dictionary<string, double> { ["accuracy"] = accuracy, ["rmse"] = accuracy }, baseline, baselineVersion, null, null);

    [Fact]
    public void Decide_NothingServing_PromotesAsFirstVersion()
    {
        var verdict = PromotionPolicy.Decide(Candidate(0.5), null, Auto);
        Assert.Equal((VerdictDecision.Promoted, "first-version"), (verdict.Decision, verdict.Basis));
    }

    [Fact]
    public void Decide_WithinTolerance_Promotes_WithItsNumbers()
    {
        var verdict = PromotionPolicy.Decide(Candidate(0.885), Serving, Auto);
        Assert.Equal(VerdictDecision.Promoted, verdict.Decision);
        Assert.Equal(("recorded-metrics", "accuracy", 0.885, 0.90, 3), (verdict.Basis, verdict.Metric, verdict.CandidateValue!.Value, verdict.BaselineValue!.Value, verdict.BaselineVersion!.Value));
    }

    [Fact]
    public void Decide_WorseThanTolerance_Rejects()
    {
        Assert.Equal(VerdictDecision.Rejected, PromotionPolicy.Decide(Candidate(0.87), Serving, Auto).Decision);
    }

    [Fact]
    public void Decide_SameHoldoutBaseline_IsPreferredOverRecordedMetrics()
    {
        // On the candidate's own rows the serving model scores 0.80, so 0.85 is better there, though below its recorded 0.90.
        var verdict = PromotionPolicy.Decide(Candidate(0.85, new() { ["accuracy"] = 0.80 }, 3), Serving, Auto);
        Assert.Equal((VerdictDecision.Promoted, "same-holdout", 0.80), (verdict.Decision, verdict.Basis, verdict.BaselineValue!.Value));
    }

    [Fact]
    public void Decide_BaselineOfAnotherVersion_FallsBackToRecordedMetrics()
    {
        var verdict = PromotionPolicy.Decide(Candidate(0.85, new() { ["accuracy"] = 0.80 }, 2), Serving, Auto);
        Assert.Equal((VerdictDecision.Rejected, "recorded-metrics"), (verdict.Decision, verdict.Basis));
    }

    [Fact]
    public void Decide_Regression_LowerRmseIsBetter()
    {
        var regression = PolicySettings.Default with { Tolerance = 0.02 };
        Assert.Equal(VerdictDecision.Promoted, PromotionPolicy.Decide(Candidate(0.9, task: TaskKind.Regression), Serving, regression).Decision);
        Assert.Equal(VerdictDecision.Rejected, PromotionPolicy.Decide(Candidate(1.1, task: TaskKind.Regression), Serving, regression).Decision);
    }

    [Fact]
    public void Decide_ManualPolicy_WaitsEvenWhenBetter()
    {
        var verdict = PromotionPolicy.Decide(Candidate(0.99), Serving, new PolicySettings(PolicySettings.Manual, 0.02, "accuracy"));
        Assert.Equal(VerdictDecision.Pending, verdict.Decision);
        Assert.Equal(0.99, verdict.CandidateValue);
    }

    [Fact]
    public void Decide_NoMetrics_Waits()
    {
        var verdict = PromotionPolicy.Decide(new Candidate(4, TaskKind.Binary, null, null, null, null, null), Serving, Auto);
        Assert.Equal((VerdictDecision.Pending, "none"), (verdict.Decision, verdict.Basis));
    }

    [Fact]
    public void Decide_TaintedOrStale_NeverPromotes()
    {
        Assert.Equal(VerdictDecision.Tainted, PromotionPolicy.Decide(Candidate(0.99) with { TaintReason = "x" }, Serving, Auto).Decision);
        Assert.Equal(VerdictDecision.Stale, PromotionPolicy.Decide(Candidate(0.99) with { StaleReason = "y" }, Serving, Auto).Decision);
        Assert.Equal(VerdictDecision.Tainted, PromotionPolicy.Decide(Candidate(0.99) with { TaintReason = "x" }, null, Auto).Decision);
    }

    private static Candidate Scored(double logLoss, double auc, double baselineLogLoss, double baselineAuc, double? pairedSe, int rows = 100, TaskKind task = TaskKind.Binary) =>
        new(4, task, new Dictionary<string, double> { ["rows"] = rows, ["log_loss"] = logLoss, ["roc_auc"] = auc, ["accuracy"] = auc },
            pairedSe is { } se
                ? new Dictionary<string, double> { ["rows"] = rows, ["log_loss"] = baselineLogLoss, ["roc_auc"] = baselineAuc, ["accuracy"] = baselineAuc, ["log_loss_delta_se"] = se }
                : new Dictionary<string, double> { ["rows"] = rows, ["log_loss"] = baselineLogLoss, ["roc_auc"] = baselineAuc, ["accuracy"] = baselineAuc },
            3, null, null);

    [Fact]
    public void Decide_DefaultClassification_JudgesLogLossOnTheSameRows()
    {
        var verdict = PromotionPolicy.Decide(Scored(0.48, 0.66, 0.50, 0.65, 0.01), Serving, PolicySettings.Default);
        Assert.Equal((VerdictDecision.Promoted, "same-holdout", "log_loss", 0.50), (verdict.Decision, verdict.Basis, verdict.Metric, verdict.BaselineValue!.Value));
    }

    [Fact]
    public void Decide_WorseLogLossWithinPairedNoise_Promotes_BeyondIt_Rejects()
    {
        // Two standard errors of the per-row difference (0.02 each) is the band: 0.03 worse passes, 0.06 worse does not.
        Assert.Equal(VerdictDecision.Promoted, PromotionPolicy.Decide(Scored(0.53, 0.65, 0.50, 0.65, 0.02), Serving, PolicySettings.Default).Decision);
        var rejected = PromotionPolicy.Decide(Scored(0.56, 0.65, 0.50, 0.65, 0.02), Serving, PolicySettings.Default);
        Assert.Equal(VerdictDecision.Rejected, rejected.Decision);
        Assert.Contains("log_loss 0.56 vs 0.5", rejected.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_WithoutPairedError_NoiseShrinksWithMoreRows()
    {
        // 0.05 worse on 0.5: within the noise of 100 rows (2 x 0.071), beyond that of 10,000 rows (2 x 0.0071).
        Assert.Equal(VerdictDecision.Promoted, PromotionPolicy.Decide(Scored(0.55, 0.65, 0.50, 0.65, null, rows: 100), Serving, PolicySettings.Default).Decision);
        Assert.Equal(VerdictDecision.Rejected, PromotionPolicy.Decide(Scored(0.55, 0.65, 0.50, 0.65, null, rows: 10_000), Serving, PolicySettings.Default).Decision);
    }

    [Fact]
    public void Decide_LogLossWithinNoise_AucClearlyWorse_Rejects()
    {
        var verdict = PromotionPolicy.Decide(Scored(0.50, 0.60, 0.50, 0.70, 0.01, rows: 4000), Serving, PolicySettings.Default);
        Assert.Equal(VerdictDecision.Rejected, verdict.Decision);
        Assert.StartsWith("roc_auc", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_CandidateWithAClassTheChampionLacks_WinsEvenIfWorseOnTheRows()
    {
        var candidate = Scored(0.90, 0.60, 0.50, 0.70, 0.01, task: TaskKind.Multiclass) with { NewClasses = ["snow"] };
        var verdict = PromotionPolicy.Decide(candidate, Serving, PolicySettings.Default);
        Assert.Equal((VerdictDecision.Promoted, "new-class"), (verdict.Decision, verdict.Basis));
        Assert.Contains("'snow'", verdict.Reason, StringComparison.Ordinal);
        // Manual stays manual.
        Assert.Equal(VerdictDecision.Pending, PromotionPolicy.Decide(candidate, Serving, PolicySettings.Default with { Mode = PolicySettings.Manual }).Decision);
    }

    [Fact]
    public void Decide_ConfiguredToleranceWidensTheBand()
    {
        Assert.Equal(VerdictDecision.Rejected, PromotionPolicy.Decide(Scored(0.56, 0.65, 0.50, 0.65, 0.02), Serving, PolicySettings.Default).Decision);
        Assert.Equal(VerdictDecision.Promoted, PromotionPolicy.Decide(Scored(0.56, 0.65, 0.50, 0.65, 0.02), Serving, PolicySettings.Default with { Tolerance = 0.03 }).Decision);
    }

    [Fact]
    public void Decide_DefaultPolicy_CandidateWithoutLogLoss_IsJudgedOnAccuracy()
    {
        var verdict = PromotionPolicy.Decide(Candidate(0.95), Serving, PolicySettings.Default);
        Assert.Equal((VerdictDecision.Promoted, "accuracy", 0.90), (verdict.Decision, verdict.Metric, verdict.BaselineValue!.Value));
        Assert.Equal(VerdictDecision.Rejected, PromotionPolicy.Decide(Candidate(0.85), Serving, PolicySettings.Default).Decision);
    }
}
