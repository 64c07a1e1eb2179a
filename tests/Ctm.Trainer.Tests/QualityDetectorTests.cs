using Ctm.Ml;
using Ctm.Trainer.Extensions;
using Ctm.Trainer.Quality;

namespace Ctm.Trainer.Tests;

/// <summary>
/// The concept-drift detector on time-ordered streams scored by a fixed serving model (the true relation before any
/// change), through the real evaluator, slices and histograms: the label rate swings from batch to batch (a seasonal
/// wave and random regimes the model does not know), batch sizes vary, and then P(y|x) changes at a known batch
/// while the inputs keep their distribution.
/// </summary>
public sealed class QualityDetectorTests
{
    private const int ChangeAt = 20;
    private static readonly QualityOptions Settings = new();

    [Fact]
    public void Judge_RelationFlipsAtAKnownBatch_AlarmsWithinTwoBatchesAndNeverBefore_OverManySeeds()
    {
        for (var seed = 1; seed <= 40; seed++)
        {
            var verdicts = Run(new ConceptStream(seed) { Change = Change.Relation }, batches: ChangeAt + 3);

            for (var b = 0; b < ChangeAt; b++)
            {
                Assert.True(verdicts[b].Quality.Count == 0, $"seed {seed}: a false alarm at batch {b}, before the change");
            }

            var first = Enumerable.Range(ChangeAt, 3).First(b => verdicts[b].Quality.Count > 0 || b == ChangeAt + 2);
            Assert.True(first <= ChangeAt + 1 && verdicts[first].Quality.Any(f => f.Scope == "overall"),
                $"seed {seed}: no overall alarm within two batches of the change at {ChangeAt}");
        }
    }

    /// <remarks>
    /// The case raw log loss missed (the Events concept stream): a weak relation (AUC about 0.66) turns around while
    /// the inputs and the positive rate stay where they were, so log loss rises by less than the label-rate swings
    /// move it; the ranking falls below 0.5 and gives the change away.
    /// </remarks>
    [Fact]
    public void Judge_WeakRelationTurnsAroundAtAConstantPositiveRate_AlarmsOnRankingWithinTwoBatchesAndNeverBefore_OverManySeeds()
    {
        var logLossRises = 0;
        for (var seed = 1; seed <= 40; seed++)
        {
            var stream = new ConceptStream(seed) { Change = Change.Turn };
            var verdicts = Run(stream, batches: ChangeAt + 3);

            for (var b = 0; b < ChangeAt; b++)
            {
                Assert.True(verdicts[b].Quality.Count == 0, $"seed {seed}: a false alarm at batch {b}, before the change");
            }

            var first = Enumerable.Range(ChangeAt, 3).First(b => verdicts[b].Quality.Count > 0 || b == ChangeAt + 2);
            var alarm = verdicts[first].Quality.FirstOrDefault(f => f.Scope == "overall");
            Assert.True(first <= ChangeAt + 1 && alarm is not null, $"seed {seed}: no overall alarm within two batches of the change at {ChangeAt}");
            Assert.Equal("roc_auc", alarm.Metric);
            Assert.True(alarm.LowerIsWorse && alarm.Value < alarm.Limit && alarm.Limit < alarm.Norm.Median, $"seed {seed}: {alarm}");

            // The positive rate did not give it away: the batch's share of positives is within what the history showed.
            var before = Enumerable.Range(0, ChangeAt).Select(b => stream.PositiveRate(b)).ToList();
            Assert.InRange(stream.PositiveRate(first), before.Min() - 0.03, before.Max() + 0.03);
            var logLosses = Enumerable.Range(0, ChangeAt).Select(b => stream.Score(b, stable: true).Value!.Value).ToList();
            logLossRises += stream.Score(first, stable: false).Value > logLosses.Max() ? 1 : 0;
        }

        // Raw log loss, judged before, mostly stayed inside its own pre-change range.
        Assert.True(logLossRises <= 10, $"log loss left its pre-change range in {logLossRises} of 40 seeds: the stream does not test the case");
    }

    /// <remarks>Segment e (3 % of rows, 60-90 a batch) reverses its relation: its log loss more than triples, the whole's moves within its norm.</remarks>
    [Fact]
    public void Judge_OneSliceDegradesAlone_RaisesASliceAlarmNamingIt_AndNoOverallAlarm()
    {
        for (var seed = 1; seed <= 20; seed++)
        {
            var verdicts = Run(new ConceptStream(seed) { Change = Change.OneSlice, Rows = (2000, 3000) }, batches: ChangeAt + 2);

            Assert.All(verdicts.Take(ChangeAt), v => Assert.Empty(v.Quality));
            var alarms = verdicts.Skip(ChangeAt).SelectMany(v => v.Quality).ToList();
            Assert.DoesNotContain(alarms, f => f.Scope == "overall");
            var slice = Assert.Single(alarms.Take(1), f => f.Scope == "slice");
            Assert.Equal(("segment", "e"), QualityDetector.SplitKey(slice.SliceKey!));
            var sentence = QualityDetector.Sentence("shop", 1, slice);
            Assert.Contains("on slice segment = e while the whole stayed normal", sentence, StringComparison.Ordinal);
            Assert.Contains("log loss above the whole's", sentence, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Judge_StableStreams_RaiseNoAlarm_Over200Seeds()
    {
        var alarms = new List<string>();
        for (var seed = 1; seed <= 200; seed++)
        {
            var verdicts = Run(new ConceptStream(seed) { Change = Change.None }, batches: 60);
            for (var b = 0; b < verdicts.Count; b++)
            {
                alarms.AddRange(verdicts[b].Quality.Select(f => $"seed {seed} batch {b}: {f.Scope} {f.SliceKey} {f.Deviations:0.0}"));
                if (verdicts[b].Drift is { } d)
                {
                    alarms.Add($"seed {seed} batch {b}: prediction drift {d.Psi:0.000} > {d.Limit:0.000}");
                }
            }
        }

        Assert.True(alarms.Count == 0, string.Join("\n", alarms));
    }

    [Fact]
    public void Judge_InputsShiftSoPredictionsMove_RaisesPredictionDrift_WithinTwoBatches()
    {
        for (var seed = 1; seed <= 20; seed++)
        {
            var verdicts = Run(new ConceptStream(seed) { Change = Change.Inputs }, batches: ChangeAt + 2);

            Assert.All(verdicts.Take(ChangeAt), v => Assert.Null(v.Drift));
            Assert.Contains(verdicts.Skip(ChangeAt), v => v.Drift is not null);
        }
    }

    [Fact]
    public void Judge_TooShortAHistory_NeverAlarms()
    {
        var stream = new ConceptStream(3) { Change = Change.Relation };
        var history = new List<QualityPoint>();
        for (var b = 0; b < Settings.MinHistory - 1; b++)
        {
            history.Add(stream.Score(b, stable: true));
        }

        // Even a batch whose relation is reversed: a norm needs MinHistory batches first.
        var verdict = QualityDetector.Judge(history, stream.Score(ChangeAt, stable: false), Settings);
        Assert.Empty(verdict.Quality);
    }

    private static List<QualityVerdict> Run(ConceptStream stream, int batches)
    {
        var history = new List<QualityPoint>();
        var verdicts = new List<QualityVerdict>();
        for (var b = 0; b < batches; b++)
        {
            var point = stream.Score(b, stable: b < ChangeAt);
            var verdict = QualityDetector.Judge(history.TakeLast(Settings.HistoryBatches).ToList(), point, Settings);
            verdicts.Add(verdict);
            history.Add(point with { Psi = verdict.Psi });
        }

        return verdicts;
    }

    private enum Change { None, Relation, OneSlice, Inputs, Turn }

    /// <summary>
    /// Rows x1, x2 ~ N(0, 1), segment a..e (e about 3 %); y ~ Bernoulli(σ(2·x1 − x2 + segment effect + batch offset)).
    /// The serving model is the relation before the change, without the offset. Changes: <c>Relation</c> turns the
    /// x1 effect to −0.5·x1 (inputs unchanged); <c>OneSlice</c> reverses the relation in segment e only;
    /// <c>Inputs</c> moves x1's mean by 1 (relation unchanged). <c>Turn</c> serves a weak relation, 0.6·x1 − 1.4, and
    /// turns it into −0.6·x1 − 1.4: x1 is symmetric, so the positive rate stays the same.
    /// </summary>
    private sealed class ConceptStream(int seed)
    {
        private static readonly string[] Segments = ["a", "b", "c", "d", "e"];
        private static readonly double[] SegmentShare = [0.35, 0.3, 0.2, 0.12, 0.03];
        private static readonly double[] SegmentEffect = [0.0, 0.4, -0.4, 0.8, -0.8];
        private static readonly FeatureSpec[] Features = [new("x1", FeatureKind.Numeric), new("x2", FeatureKind.Numeric), new("segment", FeatureKind.Categorical)];
        private readonly Dictionary<int, double> _positiveRates = [];
        private Dictionary<string, double[]>? _edges;

        public Change Change { get; init; }

        /// <summary>Rows per batch, drawn uniformly from this range.</summary>
        public (int Min, int Max) Rows { get; init; } = (600, 1400);

        /// <summary>The share of positive labels in the batch (its draws are the same as <see cref="Score"/>'s).</summary>
        public double PositiveRate(int batch) => _positiveRates.TryGetValue(batch, out var rate) ? rate : throw new InvalidOperationException($"batch {batch} was not scored");

        public QualityPoint Score(int batch, bool stable)
        {
            var random = new Random((seed * 1000) + batch);
            var rows = random.Next(Rows.Min, Rows.Max);
            // Label-rate swings the model does not know: a 12-batch wave and a regime that changes now and then.
            var offset = (0.3 * Math.Sin(2 * Math.PI * batch / 12.0)) + (new Random((seed * 7919) + (batch / 5)).NextDouble() - 0.5) * 0.4;
            var x1 = new double[rows];
            var x2 = new double[rows];
            var segment = new string?[rows];
            var labels = new string?[rows];
            var probabilities = new float[rows * 2];
            for (var r = 0; r < rows; r++)
            {
                x1[r] = Normal(random) + (Change == Change.Inputs && !stable ? 1.0 : 0.0);
                x2[r] = Normal(random);
                var s = Pick(random);
                segment[r] = Segments[s];
                var served = Change == Change.Turn ? (0.6 * x1[r]) - 1.4 : (2 * x1[r]) - x2[r] + SegmentEffect[s];
                var truth = (Change, stable) switch
                {
                    (Change.Relation, false) => (-0.5 * x1[r]) - x2[r] + SegmentEffect[s],
                    (Change.Turn, false) => (-0.6 * x1[r]) - 1.4,
                    (Change.OneSlice, false) when s == 4 => -served,
                    _ => served,
                };
                labels[r] = random.NextDouble() < Sigmoid(truth + offset) ? "1" : "0";
                var p = Sigmoid(served);
                probabilities[(2 * r) + 1] = (float)p;
                probabilities[2 * r] = (float)(1 - p);
            }

            _positiveRates[batch] = labels.Count(l => l == "1") / (double)rows;
            var data = TabularDataset.CreateBuilder().AddNumeric("x1", x1).AddNumeric("x2", x2).AddCategorical("segment", segment).WithLabel("y", labels).Build();
            _edges ??= Evaluator.QuantileEdges(data, Settings.NumericBuckets);
            var predictions = new ModelPredictions(ModelTask.BinaryClassification, ["0", "1"], 2, probabilities, null);
            var metrics = Evaluator.Evaluate(predictions, data, Settings.TopValuesPerFeature, _edges, perClass: true);
            return QualityDetector.Point(1, metrics, QualityDetector.Histogram(predictions, Settings.PredictionBins).Counts);
        }

        private static int Pick(Random random)
        {
            var u = random.NextDouble();
            for (var s = 0; s < SegmentShare.Length; s++)
            {
                u -= SegmentShare[s];
                if (u < 0)
                {
                    return s;
                }
            }

            return SegmentShare.Length - 1;
        }

        private static double Normal(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

        private static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));
    }
}
