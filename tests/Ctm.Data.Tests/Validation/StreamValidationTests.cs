using Ctm.Data.Tests.Support;
using Ctm.Data.Validation;
using Ctm.Testing.Streams;

namespace Ctm.Data.Tests.Validation;

/// <summary>
/// The quarantine's goals on realistic time-ordered streams (daily and weekly cycles, growing domains, label-rate
/// swings, persistent corruptions), with default settings and nobody releasing anything.
/// </summary>
public sealed class StreamValidationTests(ITestOutputHelper output)
{
    private sealed record Outcome(int Index, bool Clean, bool Accepted, string Corruption, ValidationDecision Decision);

    private List<Outcome> Replay(StreamOptions options, out GeneratedStream stream, out ValidationReplay replay)
    {
        stream = StreamGenerator.Generate(options);
        replay = new ValidationReplay(stream.LabelColumn);
        var outcomes = new List<Outcome>();
        foreach (var batch in stream.Batches)
        {
            var decision = replay.Next(batch.ToCsv());
            outcomes.Add(new Outcome(batch.Index, batch.IsClean, decision.IsAccepted, batch.Corruption.ToString(), decision));
            var verdict = decision.IsAccepted ? "accepted" : "QUARANTINED";
            var mark = batch.IsClean == decision.IsAccepted ? "" : batch.IsClean ? "  <-- false quarantine" : "  <-- missed corruption";
            output.WriteLine($"batch {batch.Index,2} {batch.Corruption,-15} {verdict}{mark}");
            foreach (var a in decision.Anomalies)
            {
                output.WriteLine($"    [{a.Severity}] {a.Description}");
            }
        }

        var falseQ = outcomes.Count(o => o.Clean && !o.Accepted);
        var missed = outcomes.Count(o => !o.Clean && o.Accepted);
        output.WriteLine($"{options.Kind} stream, {outcomes.Count} batches: {falseQ} false quarantines of {outcomes.Count(o => o.Clean)} clean batches; {missed} missed of {outcomes.Count(o => !o.Clean)} corrupt batches");
        foreach (var line in replay.SchemaLog)
        {
            output.WriteLine("  schema " + line);
        }

        return outcomes;
    }

    [Fact]
    public void EventsBenchmark_DefaultSettings_AtMostOneFalseQuarantinePer35Clean_EveryCorruptBatchQuarantined()
    {
        var outcomes = Replay(StreamOptions.EventsBenchmark, out _, out _);

        var clean = outcomes.Where(o => o.Clean).ToList();
        var falseQuarantines = clean.Count(o => !o.Accepted);
        Assert.True(falseQuarantines * 35 <= clean.Count, $"{falseQuarantines} of {clean.Count} clean batches were quarantined");
        Assert.All(outcomes.Where(o => !o.Clean), o => Assert.False(o.Accepted, $"corrupt batch {o.Index} ({o.Corruption}) was accepted"));
    }

    [Fact]
    public void EventsBenchmark_EachCorruption_BlockedOnTheCorruptedColumn()
    {
        var outcomes = Replay(StreamOptions.EventsBenchmark, out _, out _);

        foreach (var (corruption, feature) in new[] { ("UnitChange", "amount"), ("RenamedCategory", "weekday"), ("LabelFlip", "label") })
        {
            Assert.All(outcomes.Where(o => o.Corruption == corruption), o =>
                Assert.Contains(o.Decision.Blocking, a => a.Feature == feature));
        }
    }

    [Fact]
    public void EventsStream_YoungWeekdayDomainGrows_WidenedWithoutBlocking_AndHighCardinalityColumnsKeepADomain()
    {
        var outcomes = Replay(StreamOptions.EventsBenchmark with { Batches = 12, Corruptions = [] }, out _, out var replay);

        Assert.All(outcomes, o => Assert.True(o.Accepted, $"batch {o.Index}: {o.Decision.Summary}"));
        Assert.Equal(7, replay.Schema!.Find("weekday")!.Domain!.Count);
        Assert.Contains(outcomes, o => o.Decision.Warnings.Any(a => a.Feature == "weekday" && a.Kind == AnomalyKind.OutOfDomain));
        Assert.True(replay.Schema.Find("merchant")!.Domain!.Count > 100, "the merchant column has hundreds of values and keeps a growing domain");
    }

    [Fact]
    public void WeatherBenchmark_LateClassWidensTheLabelDomainWithAWarning_NoFalseQuarantine()
    {
        var outcomes = Replay(StreamOptions.WeatherBenchmark, out var stream, out var replay);

        var lateClass = stream.LateClass!;
        var first = outcomes.First(o => o.Decision.Anomalies.Any(a => a.Feature == stream.LabelColumn && a.Kind == AnomalyKind.OutOfDomain && a.Examples.Contains(lateClass)));
        Assert.True(first.Accepted, first.Decision.Summary);
        Assert.Contains(first.Decision.Warnings, a => a.Feature == stream.LabelColumn && a.Kind == AnomalyKind.OutOfDomain && a.Examples.Contains(lateClass));
        Assert.Contains(lateClass, replay.Schema!.Find(stream.LabelColumn)!.Domain!);
        Assert.True(outcomes.Count(o => !o.Accepted) * 35 <= outcomes.Count, "clean weather batches were quarantined");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void EventsBenchmark_OtherSeeds_NoFalseQuarantine_EveryCorruptBatchQuarantined(int seed)
    {
        var outcomes = Replay(StreamOptions.EventsBenchmark with { Seed = seed }, out _, out _);

        Assert.All(outcomes, o => Assert.True(o.Accepted == o.Clean, $"batch {o.Index} ({o.Corruption}): {o.Decision.Summary}"));
    }

    // Weather's label flip (rain and clear swapped) is not here: the class mix swings with the weather regimes, so a
    // swap looks like a regime in the label's marginal distribution; telling them apart needs per-class feature statistics.
    [Theory]
    [InlineData(7)]
    [InlineData(1)]
    [InlineData(2)]
    public void WeatherStream_UnitChangeAndRenamedStations_QuarantinedThroughout_CleanBatchesPass(int seed)
    {
        var options = StreamOptions.WeatherBenchmark with { Seed = seed, Corruptions = [new CorruptionSpan(Corruption.UnitChange, 12, 3), new CorruptionSpan(Corruption.RenamedCategory, 18, 3)] };

        var outcomes = Replay(options, out _, out _);

        Assert.All(outcomes, o => Assert.True(o.Accepted == o.Clean, $"batch {o.Index} ({o.Corruption}): {o.Decision.Summary}"));
    }
}
