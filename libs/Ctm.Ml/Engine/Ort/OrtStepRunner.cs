using Ctm.Ml.Data;
using Ctm.Onnx;
using Ctm.Onnx.Model;
using Microsoft.ML.OnnxRuntime;
using OrtElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;

namespace Ctm.Ml.Engine.Ort;

/// <summary>
/// Runs <see cref="TrainingGraph"/>'s Adam step on ONNX Runtime with the parameters and moments resident in the
/// session's device memory. Two buffer sets ping-pong through two I/O bindings (a step reads one set and writes the
/// other, so no output aliases an input); per step only the batch goes up and the scalar loss comes back.
/// </summary>
internal sealed class OrtStepRunner : IStepRunner
{
    private readonly Network _net;
    private readonly EncodedData _data;
    private readonly int _numeric, _categorical;
    private readonly float _weightDecay;
    private readonly InferenceSession _step, _upload, _download;
    private readonly RunOptions _runOptions = new();
    private readonly OrtAllocator? _deviceAllocator;
    private readonly OrtMemoryInfo? _deviceMemory;
    private readonly OrtValue[][] _state = new OrtValue[2][];
    private readonly OrtIoBinding[] _stepBindings = new OrtIoBinding[2];
    private readonly OrtIoBinding[] _downloadBindings = new OrtIoBinding[2];
    private readonly OrtValue[] _hostParameters;
    private readonly float[] _x, _y, _w, _hyper = new float[4], _loss = new float[1];
    private readonly long[] _cat;
    private readonly OrtValue _hyperValue, _lossValue;
    private readonly Dictionary<int, OrtValue[]> _batchValues = [];
    private float _learningRate;
    private int _current, _steps;

    public OrtStepRunner(Network net, EncodedData data, TrainingOptions options, OrtTrainingDevice device)
    {
        _net = net;
        _data = data;
        _numeric = net.NumericCount;
        _categorical = net.CategoricalCount;
        _learningRate = (float)options.LearningRate;
        _weightDecay = (float)options.WeightDecay;
        var threads = options.MaxThreads == 0 ? Environment.ProcessorCount : Math.Min(options.MaxThreads, Environment.ProcessorCount);
        var layers = net.Layers;
        var names = TrainingGraph.StateNames(layers);
        var shapes = TrainingGraph.ParameterShapes(net.Sizes);
        long[][] stateShapes = [.. shapes, .. shapes, .. shapes];
        var parameterCount = 2 * layers;
        try
        {
            var model = TrainingGraph.Build(net.Task, _numeric, _categorical, net.Sizes, (float)options.L2, TrainingGraphKind.AdamStep);
            _step = CreateSession(model, device, threads, optimize: true);
            // Identity graphs move tensors between host and device memory through I/O bindings; unoptimized, so ORT
            // keeps the copy nodes instead of folding outputs into inputs.
            _upload = CreateSession(CopyGraph(stateShapes), device, threads, optimize: false);
            _download = CreateSession(CopyGraph(shapes), device, threads, optimize: false);
            if (device == OrtTrainingDevice.Cuda)
            {
                _deviceMemory = new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA, OrtAllocatorType.DeviceAllocator, 0, OrtMemType.Default);
                _deviceAllocator = new OrtAllocator(_step, _deviceMemory);
            }

            var allocator = _deviceAllocator ?? OrtAllocator.DefaultInstance;
            for (var set = 0; set < 2; set++)
            {
                _state[set] = [.. stateShapes.Select(s => OrtValue.CreateAllocatedTensorValue(allocator, OrtElementType.Float, s))];
            }

            _hostParameters = [.. net.W.Select((w, l) => OrtValue.CreateTensorValueFromMemory(w, shapes[l])),
                .. net.B.Select((b, l) => OrtValue.CreateTensorValueFromMemory(b, shapes[layers + l]))];
            Upload(stateShapes, parameterCount);

            var rows = Math.Min(options.BatchSize, data.Rows);
            _x = new float[rows * _numeric];
            _cat = new long[rows * _categorical];
            _y = new float[rows];
            _w = new float[rows];
            _hyperValue = OrtValue.CreateTensorValueFromMemory(_hyper, [4]);
            _lossValue = OrtValue.CreateTensorValueFromMemory(_loss, [1]);
            for (var set = 0; set < 2; set++)
            {
                var step = _step.CreateIoBinding();
                for (var i = 0; i < names.Length; i++)
                {
                    step.BindInput(names[i], _state[set][i]);
                    step.BindOutput($"new_{names[i]}", _state[1 - set][i]);
                }

                step.BindOutput("loss", _lossValue);
                _stepBindings[set] = step;
                var download = _download.CreateIoBinding();
                for (var i = 0; i < parameterCount; i++)
                {
                    download.BindInput($"i{i}", _state[set][i]);
                    download.BindOutput($"o{i}", _hostParameters[i]);
                }

                _downloadBindings[set] = download;
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public double LearningRate
    {
        get => _learningRate;
        set => _learningRate = (float)value;
    }

    /// <inheritdoc />
    public (double Loss, double Weight) Step(int[] order, int start, int count)
    {
        var weights = _data.W;
        double weight = count;
        if (weights is not null)
        {
            weight = 0;
            for (var i = 0; i < count; i++)
            {
                weight += weights[order[start + i]];
            }
        }

        if (weight <= 0)
        {
            return (0, 0);
        }

        int nn = _numeric, nc = _categorical;
        var x = _data.X;
        var cat = _data.Cat;
        var y = _data.Y!;
        for (var r = 0; r < count; r++)
        {
            var src = order[start + r];
            x.AsSpan(src * nn, nn).CopyTo(_x.AsSpan(r * nn, nn));
            for (var c = 0; c < nc; c++)
            {
                _cat[(r * nc) + c] = cat[(src * nc) + c];
            }

            _y[r] = y[src];
            _w[r] = weights?[src] ?? 1f;
        }

        // The same float arithmetic as TrainingRun, so both engines take the same step.
        _steps++;
        _hyper[0] = _learningRate / (1 - MathF.Pow(TrainingGraph.Beta1, _steps));
        _hyper[1] = MathF.Sqrt(1 - MathF.Pow(TrainingGraph.Beta2, _steps));
        _hyper[2] = 1f - (_learningRate * _weightDecay);
        _hyper[3] = 1f / (float)weight;

        var binding = _stepBindings[_current];
        var batch = BatchValues(count);
        var k = 0;
        if (nn > 0)
        {
            binding.BindInput("x", batch[k++]);
        }

        if (nc > 0)
        {
            binding.BindInput("cat", batch[k++]);
        }

        // Bound every step: on CUDA, binding is when ORT copies host memory to the device.
        binding.BindInput("y", batch[k++]);
        binding.BindInput("w", batch[k]);
        binding.BindInput("hyper", _hyperValue);
        _step.RunWithBinding(_runOptions, binding);
        binding.SynchronizeBoundOutputs();
        _current = 1 - _current;
        return (_loss[0], weight);
    }

    /// <inheritdoc />
    public void SyncNetwork()
    {
        var binding = _downloadBindings[_current];
        _download.RunWithBinding(_runOptions, binding);
        binding.SynchronizeBoundOutputs();
        _net.RefreshTransposes();
    }

    private OrtValue[] BatchValues(int count)
    {
        if (_batchValues.TryGetValue(count, out var values))
        {
            return values;
        }

        var list = new List<OrtValue>();
        var memory = OrtMemoryInfo.DefaultInstance;
        if (_numeric > 0)
        {
            list.Add(OrtValue.CreateTensorValueFromMemory(memory, new Memory<float>(_x, 0, count * _numeric), [count, _numeric]));
        }

        if (_categorical > 0)
        {
            list.Add(OrtValue.CreateTensorValueFromMemory(memory, new Memory<long>(_cat, 0, count * _categorical), [count, _categorical]));
        }

        list.Add(OrtValue.CreateTensorValueFromMemory(memory, new Memory<float>(_y, 0, count), [count]));
        list.Add(OrtValue.CreateTensorValueFromMemory(memory, new Memory<float>(_w, 0, count), [count]));
        return _batchValues[count] = [.. list];
    }

    /// <summary>Parameters from the network's arrays and zero moments into buffer set 0.</summary>
    private void Upload(long[][] stateShapes, int parameterCount)
    {
        var zeros = stateShapes.Skip(parameterCount)
            .Select(s => OrtValue.CreateTensorValueFromMemory(new float[s.Aggregate(1L, (a, d) => a * d)], s)).ToArray();
        try
        {
            using var binding = _upload.CreateIoBinding();
            for (var i = 0; i < stateShapes.Length; i++)
            {
                binding.BindInput($"i{i}", i < parameterCount ? _hostParameters[i] : zeros[i - parameterCount]);
                binding.BindOutput($"o{i}", _state[0][i]);
            }

            _upload.RunWithBinding(_runOptions, binding);
            binding.SynchronizeBoundOutputs();
        }
        finally
        {
            foreach (var z in zeros)
            {
                z.Dispose();
            }
        }
    }

    private static byte[] CopyGraph(long[][] shapes)
    {
        var g = new OnnxGraphBuilder("ctm_copy");
        for (var i = 0; i < shapes.Length; i++)
        {
            long?[] dims = [.. shapes[i].Select(d => (long?)d)];
            g.AddInput($"i{i}", TensorElementType.Float, dims);
            g.AddNode("Identity", [$"i{i}"], [$"o{i}"]);
            g.AddOutput($"o{i}", TensorElementType.Float, dims);
        }

        return g.Build(new OnnxModelInfo { Opsets = { [""] = 17 } });
    }

    private static InferenceSession CreateSession(byte[] model, OrtTrainingDevice device, int threads, bool optimize)
    {
        OnnxRuntime.EnsureLoaded();
        using var options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            GraphOptimizationLevel = optimize ? Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_ENABLE_ALL : Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_DISABLE_ALL,
        };
        if (device == OrtTrainingDevice.Cuda)
        {
            OnnxRuntime.AppendCuda(options);
        }

        return new InferenceSession(model, options);
    }

    public void Dispose()
    {
        foreach (var b in _stepBindings.Concat(_downloadBindings))
        {
            b?.Dispose();
        }

        foreach (var set in _state)
        {
            foreach (var v in set ?? [])
            {
                v.Dispose();
            }
        }

        foreach (var v in _hostParameters ?? [])
        {
            v.Dispose();
        }

        foreach (var values in _batchValues.Values)
        {
            foreach (var v in values)
            {
                v.Dispose();
            }
        }

        _hyperValue?.Dispose();
        _lossValue?.Dispose();
        _deviceAllocator?.Dispose();
        _deviceMemory?.Dispose();
        _upload?.Dispose();
        _download?.Dispose();
        _step?.Dispose();
        _runOptions.Dispose();
    }
}
