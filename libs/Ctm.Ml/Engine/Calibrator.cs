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

    /// <summary>Newton's method on the penalized log-likelihood of y ~ sigmoid(a·z + c).</summary>
    private static Calibration FitPlatt(float[] z, float[] y)
    {
        double a = 1, c = 0;
        var before = BinaryLoss(z, y, 1, 0);
        for (var iteration = 0; iteration < 50; iteration++)
        {
            double ga = Prior * (a - 1), gc = Prior * c, haa = Prior, hac = 0, hcc = Prior;
            for (var i = 0; i < z.Length; i++)
            {
                var p = 1 / (1 + Math.Exp(-((a * z[i]) + c)));
                var r = p - y[i];
                var s = Math.Max(p * (1 - p), 1e-12);
                ga += r * z[i];
                gc += r;
                haa += s * z[i] * z[i];
                hac += s * z[i];
                hcc += s;
            }

            var det = (haa * hcc) - (hac * hac);
            if (!(det > 1e-12))
            {
                break;
            }

            var da = ((hcc * ga) - (hac * gc)) / det;
            var dc = ((haa * gc) - (hac * ga)) / det;
            a -= da;
            c -= dc;
            if (Math.Abs(da) + Math.Abs(dc) < 1e-9)
            {
                break;
            }
        }

        // A reversed or degenerate slope would turn the ranking upside down: keep the model as it was.
        if (!(a > 0.01) || !double.IsFinite(c) || BinaryLoss(z, y, a, c) > before)
        {
            return new Calibration(1, 0, before, before);
        }

        return new Calibration(a, c, before, BinaryLoss(z, y, a, c));
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
