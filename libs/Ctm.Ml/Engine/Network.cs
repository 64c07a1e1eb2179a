using System.Runtime.CompilerServices;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Ctm.Ml.Data;

namespace Ctm.Ml.Engine;

/// <summary>
/// The MLP's parameters and its forward and backward passes. Layer 0 multiplies the standardized numerics by the
/// numeric rows of W0 and adds one W0 row per categorical value (embedding lookup = one-hot × W0); hidden layers use ReLU.
/// </summary>
internal sealed class Network
{
    public Network(ModelTask task, int numericCount, int categoricalCount, int[] sizes, float[][] weights, float[][] biases)
    {
        Task = task;
        NumericCount = numericCount;
        CategoricalCount = categoricalCount;
        Sizes = sizes;
        W = weights;
        B = biases;
        WT = new float[weights.Length][];
        for (var l = 1; l < weights.Length; l++)
        {
            WT[l] = new float[weights[l].Length];
        }

        RefreshTransposes();
    }

    public ModelTask Task { get; }

    public int NumericCount { get; }

    public int CategoricalCount { get; }

    public int[] Sizes { get; }

    public float[][] W { get; }

    public float[][] B { get; }

    /// <summary>Transposed weights of layers ≥ 1, for the backward product dA = dZ·Wᵀ.</summary>
    public float[][] WT { get; }

    public int Layers => W.Length;

    public int OutputWidth => Sizes[^1];

    public int MaxWidth => Sizes.Skip(1).Max();

    public static Network Create(Preprocessing prep, IReadOnlyList<int> hidden, Rng rng)
    {
        int[] sizes = [prep.InputWidth, .. hidden, prep.OutputWidth];
        var weights = new float[sizes.Length - 1][];
        var biases = new float[sizes.Length - 1][];
        for (var l = 0; l < weights.Length; l++)
        {
            // PyTorch's nn.Linear default, U(±1/√fan_in); for the first layer fan_in counts active inputs
            // (one row per categorical feature), not the one-hot width.
            var fanIn = l == 0 ? Math.Max(1, prep.NumericCount + prep.CategoricalCount) : sizes[l];
            var bound = 1.0 / Math.Sqrt(fanIn);
            weights[l] = new float[sizes[l] * sizes[l + 1]];
            biases[l] = new float[sizes[l + 1]];
            for (var i = 0; i < weights[l].Length; i++)
            {
                weights[l][i] = (float)(((rng.NextDouble() * 2) - 1) * bound);
            }

            for (var i = 0; i < biases[l].Length; i++)
            {
                biases[l][i] = (float)(((rng.NextDouble() * 2) - 1) * bound);
            }
        }

        return new Network(prep.Task, prep.NumericCount, prep.CategoricalCount, sizes, weights, biases);
    }

    /// <summary>
    /// The parent's network on a grown vocabulary. A new category's row starts as a copy of the feature's
    /// out-of-vocabulary row: the parent served that category through OOV, so the child starts from exactly the
    /// parent's predictions and only then learns the category apart.
    /// </summary>
    public static Network FromParent(ModelState parent, Preprocessing prep)
    {
        var h = parent.LayerSizes[1];
        var oldW0 = parent.Weights[0];
        var newW0 = new float[prep.InputWidth * h];
        Array.Copy(oldW0, newW0, prep.NumericCount * h);
        var oldOffsets = parent.CategoricalOffsets();
        var newOffsets = prep.CategoricalOffsets();
        for (var c = 0; c < prep.CategoricalCount; c++)
        {
            var oldCount = parent.Vocabularies[c].Length;
            var newCount = prep.Vocabularies[c].Length;
            Array.Copy(oldW0, oldOffsets[c] * h, newW0, newOffsets[c] * h, oldCount * h);
            var oov = new ReadOnlySpan<float>(oldW0, (oldOffsets[c] + oldCount) * h, h);
            for (var row = oldCount; row <= newCount; row++)
            {
                oov.CopyTo(newW0.AsSpan((newOffsets[c] + row) * h, h));
            }
        }

        int[] sizes = [prep.InputWidth, .. parent.LayerSizes[1..]];
        float[][] weights = [newW0, .. parent.Weights.Skip(1).Select(w => (float[])w.Clone())];
        float[][] biases = [.. parent.Biases.Select(b => (float[])b.Clone())];
        return new Network(prep.Task, prep.NumericCount, prep.CategoricalCount, sizes, weights, biases);
    }

    public long ParameterCount => W.Sum(w => (long)w.Length) + B.Sum(b => (long)b.Length);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void RefreshTransposes()
    {
        for (var l = 1; l < Layers; l++)
        {
            int rows = Sizes[l], cols = Sizes[l + 1];
            var w = W[l];
            var wt = WT[l];
            for (var i = 0; i < rows; i++)
            {
                for (var j = 0; j < cols; j++)
                {
                    wt[(j * rows) + i] = w[(i * cols) + j];
                }
            }
        }
    }

    /// <summary>Copies rows of the encoded data into the workspace.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Gather(Workspace ws, EncodedData data, ReadOnlySpan<int> rows)
    {
        ws.Rows = rows.Length;
        int nn = NumericCount, nc = CategoricalCount;
        for (var r = 0; r < rows.Length; r++)
        {
            var src = rows[r];
            data.X.AsSpan(src * nn, nn).CopyTo(ws.X.AsSpan(r * nn, nn));
            data.Cat.AsSpan(src * nc, nc).CopyTo(ws.Cat.AsSpan(r * nc, nc));
        }
    }

    /// <summary>Forward pass over the workspace's rows; the last activation holds the logits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public unsafe void Forward(Workspace ws)
    {
        var rows = ws.Rows;
        for (var l = 0; l < Layers; l++)
        {
            var width = Sizes[l + 1];
            var z = ws.Act[l];
            for (var r = 0; r < rows; r++)
            {
                B[l].CopyTo(z.AsSpan(r * width, width));
            }

            fixed (float* zp = z, wp = W[l])
            {
                if (l == 0)
                {
                    fixed (float* xp = ws.X)
                    {
                        Gemm.Multiply(rows, width, NumericCount, xp, NumericCount, 1, wp, width, zp, width, accumulate: true);
                    }

                    var cat = ws.Cat;
                    for (var r = 0; r < rows; r++)
                    {
                        var zr = new Span<float>(zp + (r * width), width);
                        for (var c = 0; c < CategoricalCount; c++)
                        {
                            Simd.Add(zr, new ReadOnlySpan<float>(wp + ((long)cat[(r * CategoricalCount) + c] * width), width));
                        }
                    }
                }
                else
                {
                    var inWidth = Sizes[l];
                    fixed (float* ap = ws.Act[l - 1])
                    {
                        Gemm.Multiply(rows, width, inWidth, ap, inWidth, 1, wp, width, zp, width, accumulate: true);
                    }
                }
            }

            if (l < Layers - 1)
            {
                Simd.Relu(z.AsSpan(0, rows * width));
            }
        }
    }

    /// <summary>
    /// Loss of each row and the gradient of the weighted mean loss w.r.t. the logits, written to
    /// <see cref="Workspace.Delta"/>. Returns Σ weight·loss over the rows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public double LossAndLogitGradient(Workspace ws, ReadOnlySpan<int> rows, EncodedData data, float batchWeight)
    {
        var width = OutputWidth;
        var logits = ws.Act[Layers - 1];
        var delta = ws.Delta;
        var y = data.Y!;
        var weights = data.W;
        double total = 0;
        for (var r = 0; r < rows.Length; r++)
        {
            var src = rows[r];
            var w = weights is null ? 1f : weights[src];
            var scale = w / batchWeight;
            double loss;
            switch (Task)
            {
                case ModelTask.BinaryClassification:
                {
                    var z = logits[r];
                    var t = y[src];
                    loss = Math.Max(z, 0) - (z * t) + Math.Log(1 + Math.Exp(-Math.Abs(z)));
                    delta[r] = (Sigmoid(z) - t) * scale;
                    break;
                }

                case ModelTask.Regression:
                {
                    var d = logits[r] - y[src];
                    loss = (double)d * d;
                    delta[r] = 2 * d * scale;
                    break;
                }

                default:
                {
                    var z = logits.AsSpan(r * width, width);
                    var g = delta.AsSpan(r * width, width);
                    var max = TensorPrimitives.Max(z);
                    double sum = 0;
                    for (var j = 0; j < width; j++)
                    {
                        g[j] = MathF.Exp(z[j] - max);
                        sum += g[j];
                    }

                    var target = (int)y[src];
                    loss = Math.Log(sum) + max - z[target];
                    var inv = (float)(scale / sum);
                    TensorPrimitives.Multiply(g, inv, g);
                    g[target] -= scale;
                    break;
                }
            }

            total += w * loss;
        }

        return total;
    }

    /// <summary>Backward pass from <see cref="Workspace.Delta"/> (dLoss/dLogits) into the workspace's gradients.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public unsafe void Backward(Workspace ws)
    {
        var rows = ws.Rows;
        var delta = ws.Delta;
        var spare = ws.Spare;
        for (var l = Layers - 1; l >= 0; l--)
        {
            var width = Sizes[l + 1];
            var inWidth = Sizes[l];
            var gb = ws.GB[l];
            gb.AsSpan().Clear();
            for (var r = 0; r < rows; r++)
            {
                Simd.Add(gb, delta.AsSpan(r * width, width));
            }

            fixed (float* dp = delta, gwp = ws.GW[l])
            {
                if (l > 0)
                {
                    var act = ws.Act[l - 1];
                    fixed (float* ap = act, wtp = WT[l], sp = spare)
                    {
                        // dW = Aᵀ·dZ, then dA = dZ·Wᵀ masked by ReLU (A > 0 exactly where Z > 0).
                        Gemm.Multiply(inWidth, width, rows, ap, 1, inWidth, dp, width, gwp, width, accumulate: false);
                        Gemm.Multiply(rows, inWidth, width, dp, width, 1, wtp, inWidth, sp, inWidth, accumulate: false);
                    }

                    ReluMask(spare.AsSpan(0, rows * inWidth), act.AsSpan(0, rows * inWidth));
                    (delta, spare) = (spare, delta);
                }
                else
                {
                    fixed (float* xp = ws.X)
                    {
                        Gemm.Multiply(NumericCount, width, rows, xp, 1, NumericCount, dp, width, gwp, width, accumulate: false);
                    }

                    if (CategoricalCount > 0)
                    {
                        // Only the embedding rows of this shard's categories get a gradient; the rest of the block
                        // keeps stale values and is never read (see Workspace.Touched), so its cost does not grow
                        // with the vocabulary.
                        var gw = ws.GW[0];
                        var cat = ws.Cat;
                        var stamp = ++ws.Stamp;
                        ws.Touched.Clear();
                        for (var r = 0; r < rows; r++)
                        {
                            var d = new ReadOnlySpan<float>(dp + (r * width), width);
                            for (var c = 0; c < CategoricalCount; c++)
                            {
                                var row = cat[(r * CategoricalCount) + c];
                                var target = gw.AsSpan(row * width, width);
                                if (ws.RowStamps[row] != stamp)
                                {
                                    ws.RowStamps[row] = stamp;
                                    ws.Touched.Add(row);
                                    d.CopyTo(target);
                                }
                                else
                                {
                                    Simd.Add(target, d);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>Logits → outputs: probabilities (binary: [1-p, p]) or the regression prediction in label units.</summary>
    public void Outputs(Workspace ws, Span<float> destination, float labelMean, float labelStd)
    {
        var rows = ws.Rows;
        var logits = ws.Act[Layers - 1];
        switch (Task)
        {
            case ModelTask.BinaryClassification:
                for (var r = 0; r < rows; r++)
                {
                    var p = Sigmoid(logits[r]);
                    destination[2 * r] = 1 - p;
                    destination[(2 * r) + 1] = p;
                }

                break;
            case ModelTask.Regression:
                for (var r = 0; r < rows; r++)
                {
                    destination[r] = (logits[r] * labelStd) + labelMean;
                }

                break;
            default:
                var width = OutputWidth;
                for (var r = 0; r < rows; r++)
                {
                    TensorPrimitives.SoftMax(logits.AsSpan(r * width, width), destination.Slice(r * width, width));
                }

                break;
        }
    }

    public static float Sigmoid(float z) => 1f / (1f + MathF.Exp(-z));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ReluMask(Span<float> gradient, ReadOnlySpan<float> activation)
    {
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= gradient.Length; i += 8)
            {
                var g = Vector256.Create(gradient.Slice(i, 8));
                var a = Vector256.Create(activation.Slice(i, 8));
                Vector256.ConditionalSelect(Vector256.GreaterThan(a, Vector256<float>.Zero), g, Vector256<float>.Zero).CopyTo(gradient.Slice(i, 8));
            }
        }

        for (; i < gradient.Length; i++)
        {
            if (!(activation[i] > 0))
            {
                gradient[i] = 0;
            }
        }
    }
}

/// <summary>Per-shard buffers: the rows being processed, activations, deltas and parameter gradients.</summary>
internal sealed class Workspace
{
    public Workspace(Network net, int capacity)
    {
        Capacity = capacity;
        X = new float[capacity * net.NumericCount];
        Cat = new int[capacity * net.CategoricalCount];
        Act = [.. net.Sizes.Skip(1).Select(w => new float[capacity * w])];
        // Deltas never span the first layer's (one-hot) input: layer 0 needs no input gradient.
        var maxWidth = net.Sizes.Skip(1).Max();
        Delta = new float[capacity * maxWidth];
        Spare = new float[capacity * maxWidth];
        GW = [.. net.W.Select(w => new float[w.Length])];
        GB = [.. net.B.Select(b => new float[b.Length])];
        RowStamps = new int[net.Sizes[0]];
    }

    public int Capacity { get; }

    public int Rows { get; set; }

    public float[] X { get; }

    public int[] Cat { get; }

    public float[][] Act { get; }

    public float[] Delta { get; }

    public float[] Spare { get; }

    public float[][] GW { get; }

    public float[][] GB { get; }

    /// <summary>Per first-layer row, the <see cref="Stamp"/> of the last backward pass that wrote its gradient.</summary>
    public int[] RowStamps { get; }

    /// <summary>Counts backward passes.</summary>
    public int Stamp { get; set; }

    /// <summary>Embedding rows whose gradient the last backward pass wrote; other categorical rows of GW[0] are stale.</summary>
    public List<int> Touched { get; } = [];

    /// <summary>True when the last backward pass wrote the gradient of first-layer row <paramref name="row"/>.</summary>
    public bool Wrote(int row) => RowStamps[row] == Stamp;
}
