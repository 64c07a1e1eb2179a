using Ctm.Ml.Data;
using Ctm.Ml.Engine;

namespace Ctm.Ml.Tests;

/// <summary>The hand-written backward pass against central finite differences, parameter by parameter.</summary>
public sealed class GradientTests
{
    [Theory]
    [InlineData(ModelTask.BinaryClassification, new int[0], false)]
    [InlineData(ModelTask.BinaryClassification, new[] { 6, 5 }, true)]
    [InlineData(ModelTask.MulticlassClassification, new int[0], false)]
    [InlineData(ModelTask.MulticlassClassification, new[] { 7 }, true)]
    [InlineData(ModelTask.Regression, new int[0], true)]
    [InlineData(ModelTask.Regression, new[] { 6, 4 }, false)]
    public void Backward_EveryLayerAndLoss_MatchesFiniteDifferences(ModelTask task, int[] hidden, bool weights)
    {
        var data = TestData.Mixed(task, 24, seed: 3, weights: weights);
        var options = TestData.Options(task, hidden);
        var prep = Preprocessing.Fit(data, options, null);
        var encoded = prep.Encode(data, withLabels: true);
        var net = Network.Create(prep, hidden, new Rng(11));
        var rows = Enumerable.Range(0, encoded.Rows).ToArray();
        var totalWeight = (float)rows.Sum(r => encoded.W?[r] ?? 1f);
        var ws = new Workspace(net, rows.Length);

        double Loss()
        {
            net.Gather(ws, encoded, rows);
            net.Forward(ws);
            return net.LossAndLogitGradient(ws, rows, encoded, totalWeight) / totalWeight;
        }

        Loss();
        net.Backward(ws);
        var analytic = ws.GW.Concat(ws.GB).Select(g => (float[])g.Clone()).ToArray();
        var parameters = net.W.Concat(net.B).ToArray();

        const float eps = 1e-3f;
        int checkedCount = 0, kinks = 0;
        for (var q = 0; q < parameters.Length; q++)
        {
            for (var i = 0; i < parameters[q].Length; i++)
            {
                var original = parameters[q][i];
                var center = Loss();
                parameters[q][i] = original + eps;
                var plus = Loss();
                parameters[q][i] = original - eps;
                var minus = Loss();
                parameters[q][i] = original;

                // A ReLU crossing its kink inside ±eps makes the one-sided slopes disagree: not a gradient bug.
                var right = (plus - center) / eps;
                var left = (center - minus) / eps;
                if (Math.Abs(right - left) > 1e-2 + (0.05 * Math.Abs(right)))
                {
                    kinks++;
                    continue;
                }

                var numeric = (plus - minus) / (2 * eps);
                var expected = analytic[q][i];
                Assert.True(
                    Math.Abs(numeric - expected) <= 2e-3 + (2e-2 * Math.Abs(numeric)),
                    $"parameter tensor {q} index {i}: analytic {expected}, numeric {numeric}");
                checkedCount++;
            }
        }

        Assert.True(kinks <= checkedCount / 10, $"{kinks} kinks against {checkedCount} checked parameters");
        Assert.True(checkedCount > 10, $"only {checkedCount} parameters checked");
    }

    [Fact]
    public void Backward_CategoricalRows_OnlyRowsInTheBatchGetGradient()
    {
        var data = TestData.Mixed(ModelTask.BinaryClassification, 40, seed: 5);
        var options = TestData.Options(ModelTask.BinaryClassification);
        var prep = Preprocessing.Fit(data, options, null);
        var encoded = prep.Encode(data, withLabels: true);
        var net = Network.Create(prep, [], new Rng(1));
        var rows = new[] { 0 };
        var ws = new Workspace(net, 1);
        net.Gather(ws, encoded, rows);
        net.Forward(ws);
        net.LossAndLogitGradient(ws, rows, encoded, 1f);
        net.Backward(ws);
        var used = encoded.Cat.AsSpan(0, 2).ToArray();
        for (var row = prep.NumericCount; row < prep.InputWidth; row++)
        {
            Assert.Equal(used.Contains(row), ws.GW[0][row] != 0);
        }
    }
}
