using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Ctm.Ml.Data;

namespace Ctm.Ml.Engine;

/// <summary>
/// Mini-batch training with Adam. A batch is cut into shards of <see cref="ShardRows"/> rows whose gradients are
/// summed in shard order, and threads only decide who computes which shard: the weights are bit-identical for
/// any thread count.
/// </summary>
internal sealed class TrainingRun : IStepRunner
{
    public const int ShardRows = 128;
    private const float Beta1 = 0.9f, Beta2 = 0.999f, Epsilon = 1e-8f;

    private readonly Network _net;
    private readonly EncodedData _data;
    private readonly Workspace[] _shards;
    private readonly float[][] _m, _v;
    private readonly float[][] _params;
    private readonly float[][][] _grads;
    private readonly bool[] _isWeight;
    private readonly WorkerPool _pool;
    private readonly float _l2, _weightDecay;
    private float _learningRate, _decayFactor = 1f;
    private readonly double[] _shardLoss;
    private int[] _batch = [];
    private int _batchRows, _shardCount;
    private float _batchWeight;
    private int _step;
    private float _stepSize, _bc2Sqrt;

    public TrainingRun(Network net, EncodedData data, TrainingOptions options, int threads)
    {
        _net = net;
        _data = data;
        _learningRate = (float)options.LearningRate;
        _l2 = (float)options.L2;
        _weightDecay = (float)options.WeightDecay;
        var maxShards = (Math.Min(options.BatchSize, data.Rows) + ShardRows - 1) / ShardRows;
        _shards = new Workspace[maxShards];
        for (var s = 0; s < maxShards; s++)
        {
            _shards[s] = new Workspace(net, ShardRows);
        }

        _params = [.. net.W, .. net.B];
        _isWeight = [.. net.W.Select(_ => true), .. net.B.Select(_ => false)];
        _grads = [.. _shards.Select(ws => (float[][])[.. ws.GW, .. ws.GB])];
        _m = [.. _params.Select(p => new float[p.Length])];
        _v = [.. _params.Select(p => new float[p.Length])];
        _shardLoss = new double[maxShards];
        _pool = new WorkerPool(threads);
        // Embedding rows (the categorical block of W0) are updated lazily, only when their category is in the batch.
        _denseLength = [.. _params.Select((p, q) => q == 0 ? net.NumericCount * net.Sizes[1] : p.Length)];
        _rowStamps = new int[net.Sizes[0]];
        _rowGradient = new float[net.Sizes[1]];
        _chunks = [.. _denseLength.SelectMany((length, q) => Enumerable.Range(0, (length + UpdateChunk - 1) / UpdateChunk)
            .Select(c => (q, c * UpdateChunk, Math.Min(length, (c + 1) * UpdateChunk))))];
        _parallelUpdate = _denseLength.Sum(p => (long)p) >= 64 * 1024;
    }

    public Network Network => _net;

    /// <summary>The rate of the next steps (a schedule sets it before each step).</summary>
    public double LearningRate
    {
        get => _learningRate;
        set => _learningRate = (float)value;
    }

    /// <summary>Trains on one batch; returns Σ weight·loss and Σ weight of its rows (loss before the update).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public (double Loss, double Weight) Step(int[] order, int start, int count)
    {
        _batch = order;
        _batchRows = count;
        _shardCount = (count + ShardRows - 1) / ShardRows;
        double weight = count;
        if (_data.W is { } w)
        {
            weight = 0;
            for (var i = 0; i < count; i++)
            {
                weight += w[order[start + i]];
            }
        }

        if (weight <= 0)
        {
            return (0, 0);
        }

        _batchWeight = (float)weight;
        _batchStart = start;
        _pool.Run(_shardCount, _shardWork ??= ShardWork);

        _step++;
        _stepSize = _learningRate / (1 - MathF.Pow(Beta1, _step));
        _decayFactor = 1f - (_learningRate * _weightDecay);
        _bc2Sqrt = MathF.Sqrt(1 - MathF.Pow(Beta2, _step));
        if (_parallelUpdate)
        {
            _pool.Run(_chunks.Length, _updateWork ??= UpdateWork);
        }
        else
        {
            // A small model's update takes a few microseconds: less than waking a helper would.
            for (var c = 0; c < _chunks.Length; c++)
            {
                UpdateWork(c);
            }
        }

        if (_net.CategoricalCount > 0)
        {
            UpdateEmbeddingRows();
        }

        _net.RefreshTransposes();

        double loss = 0;
        for (var s = 0; s < _shardCount; s++)
        {
            loss += _shardLoss[s];
        }

        return (loss, weight);
    }

    private const int UpdateChunk = 4096;
    private readonly (int Param, int Lo, int Hi)[] _chunks;
    private readonly bool _parallelUpdate;
    private readonly int[] _denseLength;
    private readonly int[] _rowStamps;
    private readonly float[] _rowGradient;
    private readonly List<int> _rows = [];
    private int _batchStart;
    private Action<int>? _shardWork, _updateWork;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ShardWork(int s)
    {
        var ws = _shards[s];
        var first = s * ShardRows;
        var rows = new ReadOnlySpan<int>(_batch, _batchStart + first, Math.Min(ShardRows, _batchRows - first));
        _net.Gather(ws, _data, rows);
        _net.Forward(ws);
        _shardLoss[s] = _net.LossAndLogitGradient(ws, rows, _data, _batchWeight);
        _net.Backward(ws);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void UpdateWork(int chunk)
    {
        var (q, lo, hi) = _chunks[chunk];
        Update(q, lo, hi);
    }

    /// <summary>Sums shard gradients in shard order and takes an Adam step on [lo, hi) of parameter <paramref name="q"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Update(int q, int lo, int hi)
    {
        var g0 = _grads[0][q].AsSpan(lo, hi - lo);
        for (var s = 1; s < _shardCount; s++)
        {
            Simd.Add(g0, _grads[s][q].AsSpan(lo, hi - lo));
        }

        AdamStep(_params[q].AsSpan(lo, hi - lo), _m[q].AsSpan(lo, hi - lo), _v[q].AsSpan(lo, hi - lo), g0, _isWeight[q] ? _l2 : 0f, _isWeight[q] ? _decayFactor : 1f);
    }

    /// <summary>
    /// Lazy Adam for embedding rows (as TensorFlow's LazyAdam, PyTorch's SparseAdam): a row's moments and weights
    /// move only in steps whose batch holds its category, so a step costs the same whatever the vocabulary size.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void UpdateEmbeddingRows()
    {
        var h = _net.Sizes[1];
        _rows.Clear();
        for (var s = 0; s < _shardCount; s++)
        {
            foreach (var row in _shards[s].Touched)
            {
                if (_rowStamps[row] != _step)
                {
                    _rowStamps[row] = _step;
                    _rows.Add(row);
                }
            }
        }

        var g = _rowGradient.AsSpan();
        foreach (var row in _rows)
        {
            g.Clear();
            for (var s = 0; s < _shardCount; s++)
            {
                if (_shards[s].Wrote(row))
                {
                    Simd.Add(g, _grads[s][0].AsSpan(row * h, h));
                }
            }

            AdamStep(_params[0].AsSpan(row * h, h), _m[0].AsSpan(row * h, h), _v[0].AsSpan(row * h, h), g, _l2, _decayFactor);
        }
    }

    /// <summary>One Adam step with L2 added to the gradient, in PyTorch's formulation, and AdamW's decoupled decay (p ×= decay first).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void AdamStep(Span<float> p, Span<float> m, Span<float> v, ReadOnlySpan<float> g0, float l2, float decay)
    {
        var stepSize = _stepSize;
        var bc2Sqrt = _bc2Sqrt;
        var n = p.Length;
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vb1 = Vector256.Create(Beta1);
            var vb1c = Vector256.Create(1 - Beta1);
            var vb2 = Vector256.Create(Beta2);
            var vb2c = Vector256.Create(1 - Beta2);
            var vl2 = Vector256.Create(l2);
            var vstep = Vector256.Create(stepSize);
            var vbc2 = Vector256.Create(bc2Sqrt);
            var veps = Vector256.Create(Epsilon);
            var vdecay = Vector256.Create(decay);
            for (; i + 8 <= n; i += 8)
            {
                var pv = Vector256.Create(p.Slice(i, 8));
                var g = Vector256.Create(g0.Slice(i, 8)) + (vl2 * pv);
                var mv = (vb1 * Vector256.Create(m.Slice(i, 8))) + (vb1c * g);
                var vv = (vb2 * Vector256.Create(v.Slice(i, 8))) + (vb2c * g * g);
                var denom = (Vector256.Sqrt(vv) / vbc2) + veps;
                pv = (pv * vdecay) - (vstep * mv / denom);
                mv.CopyTo(m.Slice(i, 8));
                vv.CopyTo(v.Slice(i, 8));
                pv.CopyTo(p.Slice(i, 8));
            }
        }

        for (; i < n; i++)
        {
            var g = g0[i] + (l2 * p[i]);
            m[i] = (Beta1 * m[i]) + ((1 - Beta1) * g);
            v[i] = (Beta2 * v[i]) + ((1 - Beta2) * g * g);
            p[i] = (p[i] * decay) - (stepSize * m[i] / ((MathF.Sqrt(v[i]) / bc2Sqrt) + Epsilon));
        }
    }

    /// <summary>The network's arrays are the weights this run updates: nothing to bring back.</summary>
    public void SyncNetwork()
    {
    }

    public void Dispose() => _pool.Dispose();
}
