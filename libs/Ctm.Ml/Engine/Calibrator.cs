using Ctm.Ml.Data;

namespace Ctm.Ml.Engine;

/// <summary>
/// Post-hoc calibration on held-out rows, folded into the last layer so the model (and its ONNX graph) keeps its
/// shape: binary models get Platt scaling of the logit (z → a·z + c; the slope fixes overconfidence, the intercept a
/// base rate that moved), multiclass models temperature scaling (z → z / T).
/// </summary>
internal static class Calibrator
{
    // A weak prior toward "no change" (a = 1, c = 0): a few dozen rows cannot pull the map far on their own.
    private const double Prior = 2.0;

    public static Calibration Fit(Network net, EncodedData rows)
    {
        var width = net.OutputWidth;
        var logits = Logits(net, rows);
        var y = rows.Y!;
        return net.Task == ModelTask.BinaryClassification ? FitPlatt(logits, y) : FitTemperature(logits, y, width);
    }

    private static float[] Logits(Network net, EncodedData data)
    {
        var width = net.OutputWidth;
        var result = new float[data.Rows * width];
        var ws = new Workspace(net, TrainingRun.ShardRows);
        var order = Enumerable.Range(0, data.Rows).ToArray();
        for (var start = 0; start < data.Rows; start += TrainingRun.ShardRows)
        {
            var count = Math.Min(TrainingRun.ShardRows, data.Rows - start);
            net.Gather(ws, data, order.AsSpan(start, count));
            net.Forward(ws);
            ws.Act[net.Layers - 1].AsSpan(0, count * width).CopyTo(result.AsSpan(start * width));
        }

        return result;
    }

    /// <summary>
    /// The penalized log-likelihood of y ~ sigmoid(a·z + c): golden-section search over ln a in [-4, 2], with the best
    /// c for each a by damped Newton steps (robust where an overfitted model's logits are huge and Newton on both would
    /// overshoot).
    /// </summary>
    private static Calibration FitPlatt(float[] z, float[] y)
    {
        var before = BinaryLoss(z, y, 1, 0);
        double lo = -4, hi = 2;
        var phi = (Math.Sqrt(5) - 1) / 2;
        var x1 = hi - (phi * (hi - lo));
        var x2 = lo + (phi * (hi - lo));
        var (c1, f1) = BestShift(z, y, Math.Exp(x1));
        var (c2, f2) = BestShift(z, y, Math.Exp(x2));
        for (var i = 0; i < 50; i++)
        {
            if (f1 < f2)
            {
                (hi, x2, c2, f2) = (x2, x1, c1, f1);
                x1 = hi - (phi * (hi - lo));
                (c1, f1) = BestShift(z, y, Math.Exp(x1));
            }
            else
            {
                (lo, x1, c1, f1) = (x1, x2, c2, f2);
                x2 = lo + (phi * (hi - lo));
                (c2, f2) = BestShift(z, y, Math.Exp(x2));
            }
        }

        var a = Math.Exp((lo + hi) / 2);
        var (c, _) = BestShift(z, y, a);
        var after = BinaryLoss(z, y, a, c);
        return after < before && double.IsFinite(c) ? new Calibration(a, c, before, after) : new Calibration(1, 0, before, before);
    }

    /// <summary>For a slope <paramref name="a"/>: the intercept of least penalized loss, and that loss.</summary>
    private static (double Shift, double Loss) BestShift(float[] z, float[] y, double a)
    {
        double c = 0;
        for (var iteration = 0; iteration < 30; iteration++)
        {
            double g = Prior * c, h = Prior;
            for (var i = 0; i < z.Length; i++)
            {
                var p = 1 / (1 + Math.Exp(-((a * z[i]) + c)));
                g += p - y[i];
                h += p * (1 - p);
            }

            var step = Math.Clamp(g / h, -2, 2);
            c -= step;
            if (Math.Abs(step) < 1e-9)
            {
                break;
            }
        }

        var penalty = 0.5 * Prior * (((a - 1) * (a - 1)) + (c * c)) / Math.Max(1, z.Length);
        return (c, BinaryLoss(z, y, a, c) + penalty);
    }

    /// <summary>Golden-section search for the temperature of least log loss, over ln T in [-3, 3].</summary>
    private static Calibration FitTemperature(float[] z, float[] y, int width)
    {
        double lo = -3, hi = 3;
        var phi = (Math.Sqrt(5) - 1) / 2;
        var x1 = hi - (phi * (hi - lo));
        var x2 = lo + (phi * (hi - lo));
        double f1 = SoftmaxLoss(z, y, width, 1 / Math.Exp(x1)), f2 = SoftmaxLoss(z, y, width, 1 / Math.Exp(x2));
        for (var i = 0; i < 60; i++)
        {
            if (f1 < f2)
            {
                (hi, x2, f2) = (x2, x1, f1);
                x1 = hi - (phi * (hi - lo));
                f1 = SoftmaxLoss(z, y, width, 1 / Math.Exp(x1));
            }
            else
            {
                (lo, x1, f1) = (x1, x2, f2);
                x2 = lo + (phi * (hi - lo));
                f2 = SoftmaxLoss(z, y, width, 1 / Math.Exp(x2));
            }
        }

        var scale = 1 / Math.Exp((lo + hi) / 2);
        var before = SoftmaxLoss(z, y, width, 1);
        var after = SoftmaxLoss(z, y, width, scale);
        return after < before ? new Calibration(scale, 0, before, after) : new Calibration(1, 0, before, before);
    }

    private static double BinaryLoss(float[] z, float[] y, double a, double c)
    {
        double total = 0;
        for (var i = 0; i < z.Length; i++)
        {
            var t = (a * z[i]) + c;
            total += Math.Max(t, 0) - (t * y[i]) + Math.Log(1 + Math.Exp(-Math.Abs(t)));
        }

        return total / Math.Max(1, z.Length);
    }

    private static double SoftmaxLoss(float[] z, float[] y, int width, double scale)
    {
        double total = 0;
        var rows = z.Length / width;
        for (var r = 0; r < rows; r++)
        {
            var max = double.NegativeInfinity;
            for (var j = 0; j < width; j++)
            {
                max = Math.Max(max, scale * z[(r * width) + j]);
            }

            double sum = 0;
            for (var j = 0; j < width; j++)
            {
                sum += Math.Exp((scale * z[(r * width) + j]) - max);
            }

            total += Math.Log(sum) + max - (scale * z[(r * width) + (int)y[r]]);
        }

        return total / Math.Max(1, rows);
    }
}

/// <summary>
/// A calibration map of the logits, z → <see cref="Scale"/>·z + <see cref="Shift"/> (multiclass: shift 0, scale 1/T),
/// and the validation log loss before and after it.
/// </summary>
/// <param name="Scale">Multiplies the logits.</param>
/// <param name="Shift">Added to the logit (binary only).</param>
/// <param name="LogLossBefore">Mean log loss on the calibration rows without the map.</param>
/// <param name="LogLossAfter">With the map.</param>
public sealed record Calibration(double Scale, double Shift, double LogLossBefore, double LogLossAfter)
{
    /// <summary>The equivalent temperature (1 / <see cref="Scale"/>).</summary>
    public double Temperature => 1 / Scale;

    internal void FoldInto(Network net)
    {
        var last = net.Layers - 1;
        var scale = (float)Scale;
        var w = net.W[last];
        for (var i = 0; i < w.Length; i++)
        {
            w[i] *= scale;
        }

        var b = net.B[last];
        for (var i = 0; i < b.Length; i++)
        {
            b[i] = (b[i] * scale) + (float)Shift;
        }

        net.RefreshTransposes();
    }
}
