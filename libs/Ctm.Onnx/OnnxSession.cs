using System.Buffers;
using System.Collections.Frozen;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Ort = Microsoft.ML.OnnxRuntime;
using OrtElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;

namespace Ctm.Onnx;

/// <summary>
/// An ONNX Runtime inference session over one model.
/// </summary>
/// <remarks>
/// <para>All members are thread-safe: ORT's <c>Run</c> is, and every call keeps its own native values. Disposing
/// while calls are running waits for them (the native session is released when the last call returns).</para>
/// <para>Inputs are checked before ORT sees them (unknown or missing names, element type, rank, fixed
/// dimensions), so mistakes come back as <see cref="ArgumentException"/> naming the input; everything ORT
/// rejects comes back as <see cref="OnnxRuntimeException"/> with ORT's message.</para>
/// <para>Two ways to run: <see cref="Run(IReadOnlyDictionary{string, OrtTensor}, IReadOnlyList{string})"/> takes
/// and returns <see cref="OrtTensor"/>s (any element type); the float path
/// <see cref="Run(ReadOnlySpan{FloatTensorInput}, ReadOnlySpan{FloatTensorOutput})"/> reads caller memory in
/// place and writes outputs into caller buffers, for hot loops (micro-batching, training steps).</para>
/// </remarks>
public sealed partial class OnnxSession : IDisposable
{
    private readonly Ort.InferenceSession session;
    private readonly Ort.RunOptions runOptions;
    private readonly OnnxNodeInfo[] inputs;
    private readonly OnnxNodeInfo[] outputs;
    private readonly FrozenDictionary<string, int> inputIndex;
    private readonly FrozenDictionary<string, int> outputIndex;
    private readonly string[] defaultOutputNames;
    private readonly int[] defaultOutputs;

    // One reference for the owner plus one per running call; the native session goes when it drops to zero, so
    // Dispose never pulls the session from under a Run that is still inside ORT.
    private int references = 1;
    private int disposed;

    // Native values the float path made over caller memory, kept for reuse. Through the managed API, making one
    // costs about as much as a small model's whole run, and hot loops pass the same buffers call after call, with
    // a handful of shapes (the micro-batcher's row counts). A value is reused only when the buffer is pinned at the
    // same address with the same length and shape during the call that uses it. CacheWays entries per input and
    // output slot, picked by a hash of the shape; an entry in use is out of the array, so concurrent calls never
    // share one, and one that is displaced is idle and can be released.
    private const int CacheWays = 64;
    private readonly CachedValue?[] inputCache;
    private readonly CachedValue?[] outputCache;

    private OnnxSession(
        Ort.InferenceSession session,
        OnnxNodeInfo[] inputs,
        OnnxNodeInfo[] outputs,
        IReadOnlyDictionary<string, string> metadata,
        OnnxModelDescription description,
        ExecutionProvider activeProvider)
    {
        this.session = session;
        runOptions = new Ort.RunOptions();
        this.inputs = inputs;
        this.outputs = outputs;
        Metadata = metadata;
        Description = description;
        ActiveProvider = activeProvider;
        inputIndex = inputs.Select((n, i) => KeyValuePair.Create(n.Name, i)).ToFrozenDictionary(StringComparer.Ordinal);
        outputIndex = outputs.Select((n, i) => KeyValuePair.Create(n.Name, i)).ToFrozenDictionary(StringComparer.Ordinal);
        defaultOutputs = [.. Enumerable.Range(0, outputs.Length).Where(i => outputs[i].IsTensor)];
        defaultOutputNames = [.. defaultOutputs.Select(i => outputs[i].Name)];
        inputCache = new CachedValue?[inputs.Length * CacheWays];
        outputCache = new CachedValue?[outputs.Length * CacheWays];
    }

    /// <summary>The model's required inputs, in model order (initializers that double as inputs are not listed).</summary>
    public IReadOnlyList<OnnxNodeInfo> Inputs => inputs;

    /// <summary>The model's outputs, in model order.</summary>
    public IReadOnlyList<OnnxNodeInfo> Outputs => outputs;

    /// <summary>The model's custom <c>metadata_props</c> (key → value).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The model's producer, graph name, domain, description and version.</summary>
    public OnnxModelDescription Description { get; }

    /// <summary>The provider the session runs on (CPU when CUDA was asked for but could not be used).</summary>
    public ExecutionProvider ActiveProvider { get; }

    /// <summary>Creates a session from the bytes of an ONNX model.</summary>
    /// <exception cref="OnnxRuntimeException">ORT cannot load the model (its message says why).</exception>
    /// <exception cref="DllNotFoundException">The native library is missing from the app's output (see <see cref="OnnxRuntime"/>).</exception>
    public static OnnxSession Create(byte[] model, OnnxSessionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Length == 0)
        {
            throw new ArgumentException("The model is empty (0 bytes).", nameof(model));
        }

        options ??= new OnnxSessionOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(options.IntraOpThreads);
        ArgumentOutOfRangeException.ThrowIfNegative(options.InterOpThreads);
        OnnxRuntime.EnsureLoaded();

        var provider = options.Provider;
        Ort.InferenceSession session;
        var sessionOptions = CreateSessionOptions(options);
        try
        {
            if (provider == ExecutionProvider.Cuda && !TryAppendCuda(sessionOptions, options))
            {
                provider = ExecutionProvider.Cpu;
                sessionOptions.Dispose();
                sessionOptions = CreateSessionOptions(options);
            }

            try
            {
                session = CreateSession(model, sessionOptions);
            }
            catch (OnnxRuntimeException ex) when (provider == ExecutionProvider.Cuda)
            {
                // The CUDA provider library can load yet fail when the session initialises (no device, driver mismatch).
                if (options.Logger is { } logger)
                {
                    LogCudaSessionFailed(logger, ex.Message);
                }

                provider = ExecutionProvider.Cpu;
                sessionOptions.Dispose();
                sessionOptions = CreateSessionOptions(options);
                session = CreateSession(model, sessionOptions);
            }
        }
        finally
        {
            sessionOptions.Dispose();
        }

        try
        {
            var inputInfos = ReadNodes(session.InputNames, session.InputMetadata);
            var outputInfos = ReadNodes(session.OutputNames, session.OutputMetadata);
            var (metadata, description) = ReadMetadata(session);
            return new OnnxSession(session, inputInfos, outputInfos, metadata, description, provider);
        }
        catch (Ort.OnnxRuntimeException e)
        {
            session.Dispose();
            throw OnnxRuntimeException.From(e);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs the model on <paramref name="inputs"/> (every required input, by name) and returns the requested
    /// outputs in the order asked for.
    /// </summary>
    /// <param name="inputs">Input name → tensor.</param>
    /// <param name="outputNames">Outputs to compute, in the order wanted; null means every tensor output, in
    /// model order (non-tensor outputs such as ZipMap's sequence of maps are skipped: see <see cref="OnnxNodeInfo.Kind"/>).</param>
    /// <exception cref="ArgumentException">An input is unknown, missing, or of the wrong type, rank or fixed
    /// dimension; or an output name is unknown. The message names it, with expected and actual.</exception>
    /// <exception cref="NotSupportedException">A requested output is not a tensor.</exception>
    /// <exception cref="OnnxRuntimeException">ORT failed to run (its message says why).</exception>
    public IReadOnlyList<OrtTensor> Run(IReadOnlyDictionary<string, OrtTensor> inputs, IReadOnlyList<string>? outputNames = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ThrowIfDisposed();
        var inputCount = inputs.Count;
        var inNames = new string[inputCount];
        var inputTensors = new OrtTensor[inputCount];
        var k = 0;
        foreach (var (name, tensor) in inputs)
        {
            ArgumentNullException.ThrowIfNull(tensor, name);
            _ = ValidateInput(name, tensor.ElementType, tensor.Shape);
            inNames[k] = name;
            inputTensors[k] = tensor;
            k++;
        }

        CheckAllInputsPresent(inputs.ContainsKey);
        var outNames = ResolveOutputs(outputNames);

        var inValues = new Ort.OrtValue?[inputCount];
        var pins = new GCHandle[inputCount];
        AddReference();
        try
        {
            for (var i = 0; i < inputCount; i++)
            {
                inValues[i] = CreateValue(inputTensors[i], out pins[i]);
            }

            using var results = session.Run(runOptions, inNames, inValues!, outNames);
            var tensors = new OrtTensor[outNames.Length];
            var j = 0;
            foreach (var value in results)
            {
                tensors[j] = ReadTensor(value, outNames[j]);
                j++;
            }

            return tensors;
        }
        catch (Ort.OnnxRuntimeException e)
        {
            throw OnnxRuntimeException.From(e);
        }
        finally
        {
            foreach (var value in inValues)
            {
                value?.Dispose();
            }

            foreach (var pin in pins)
            {
                if (pin.IsAllocated)
                {
                    pin.Free();
                }
            }

            ReleaseReference();
        }
    }

    /// <summary>
    /// The hot-loop path for float models: reads each input in place from caller memory (no copy) and writes
    /// each output into a caller buffer.
    /// </summary>
    /// <remarks>
    /// With <see cref="FloatTensorOutput.Shape"/> given for every output, ORT computes straight into the caller's
    /// buffers (no copy, no allocation; the shape must be exactly what the model produces). So it does for an output
    /// without a shape whose declared shape is [batch, fixed...] when the buffer holds exactly the first input's
    /// batch of rows. Otherwise ORT allocates the outputs and each is copied once; a buffer's length must then equal
    /// its output's element count. The only
    /// managed allocations per call are the small wrappers for the native values. Input checks are the same as for
    /// <see cref="Run(IReadOnlyDictionary{string, OrtTensor}, IReadOnlyList{string})"/>. Buffers must not be
    /// changed by other threads during the call.
    /// </remarks>
    /// <exception cref="ArgumentException">An input or output is unknown, missing, not float, or mis-sized.</exception>
    /// <exception cref="OnnxRuntimeException">ORT failed to run.</exception>
    public void Run(ReadOnlySpan<FloatTensorInput> inputs, ReadOnlySpan<FloatTensorOutput> outputs)
    {
        ThrowIfDisposed();
        var inputCount = inputs.Length;
        Span<int> inputSlots = inputCount <= 16 ? stackalloc int[inputCount] : new int[inputCount];
        var inNames = new string[inputCount];
        for (var i = 0; i < inputCount; i++)
        {
            var input = inputs[i];
            ArgumentNullException.ThrowIfNull(input.Name);
            ArgumentNullException.ThrowIfNull(input.Shape, input.Name);
            inputSlots[i] = ValidateInput(input.Name, TensorElementType.Float, input.Shape);
            inNames[i] = this.inputs[inputSlots[i]].Name;
            var count = ElementCount(input.Shape);
            if (count != input.Data.Length)
            {
                throw new ArgumentException(
                    $"Input '{input.Name}': shape [{string.Join(", ", input.Shape)}] holds {count} floats, but the buffer has {input.Data.Length}.");
            }

            for (var j = 0; j < i; j++)
            {
                if (inputSlots[j] == inputSlots[i])
                {
                    throw new ArgumentException($"Input '{input.Name}' is given twice.");
                }
            }
        }

        if (inputCount != this.inputs.Length)
        {
            var given = inputs.ToArray().Select(x => x.Name).ToHashSet(StringComparer.Ordinal);
            CheckAllInputsPresent(given.Contains);
        }

        var outputCount = outputs.Length;
        Span<int> outputSlots = outputCount <= 16 ? stackalloc int[outputCount] : new int[outputCount];
        var outNames = new string[outputCount];
        var outShapes = new long[]?[outputCount];
        var allShaped = true;
        for (var i = 0; i < outputCount; i++)
        {
            var output = outputs[i];
            ArgumentNullException.ThrowIfNull(output.Name);
            outputSlots[i] = ResolveOutput(output.Name);
            var info = this.outputs[outputSlots[i]];
            outNames[i] = info.Name;
            if (info.ElementType != TensorElementType.Float)
            {
                throw new ArgumentException($"Output '{output.Name}' is {info.ElementType}, not Float; use the OrtTensor Run for it.");
            }

            if (output.Shape is { } shape)
            {
                if (ElementCount(shape) != output.Buffer.Length)
                {
                    throw new ArgumentException(
                        $"Output '{output.Name}': shape [{string.Join(", ", shape)}] holds {ElementCount(shape)} floats, but the buffer has {output.Buffer.Length}.");
                }

                outShapes[i] = shape;
            }
            else
            {
                // A [batch, fixed...] output that fills the buffer exactly has only one possible shape: binding it
                // lets ORT write in place instead of allocating and copying.
                outShapes[i] = inputCount == 0 ? null : InferOutputShape(info, inputs[0].Shape, output.Buffer.Length);
                allShaped &= outShapes[i] is not null;
            }
        }

        var inValues = new Ort.OrtValue[inputCount];
        var inEntries = new CachedValue?[inputCount];
        var outValues = allShaped ? new Ort.OrtValue[outputCount] : null;
        var outEntries = allShaped ? new CachedValue?[outputCount] : null;
        var pins = new MemoryHandle[inputCount + (allShaped ? outputCount : 0)];
        AddReference();
        try
        {
            for (var i = 0; i < inputCount; i++)
            {
                pins[i] = inputs[i].Data.Pin();
                inValues[i] = RentValue(inputCache, inputSlots[i], pins[i], inputs[i].Data.Length, inputs[i].Shape, out inEntries[i]);
            }

            if (outValues is not null)
            {
                // Every output's shape is known: ORT writes into the caller's pinned buffers, nothing to copy.
                for (var i = 0; i < outputCount; i++)
                {
                    pins[inputCount + i] = outputs[i].Buffer.Pin();
                    outValues[i] = RentValue(outputCache, outputSlots[i], pins[inputCount + i], outputs[i].Buffer.Length, outShapes[i]!, out outEntries![i]);
                }

                session.Run(runOptions, inNames, inValues, outNames, outValues);
                return;
            }

            using var results = session.Run(runOptions, inNames, inValues, outNames);
            var k = 0;
            foreach (var value in results)
            {
                CopyFloatOutput(value, outputs[k]);
                k++;
            }
        }
        catch (Ort.OnnxRuntimeException e)
        {
            throw OnnxRuntimeException.From(e);
        }
        finally
        {
            for (var i = 0; i < inputCount; i++)
            {
                ReturnValue(inputCache, inputSlots[i], inEntries[i]);
            }

            for (var i = 0; outEntries is not null && i < outputCount; i++)
            {
                ReturnValue(outputCache, outputSlots[i], outEntries[i]);
            }

            foreach (var pin in pins)
            {
                pin.Dispose();
            }

            ReleaseReference();
        }
    }

    /// <summary>
    /// Convenience over the float path for a model with one float input and one float output: runs
    /// <paramref name="input"/> of <paramref name="shape"/> and copies the output into <paramref name="output"/>.
    /// </summary>
    /// <returns>The output's shape.</returns>
    public long[] RunFloat(string inputName, ReadOnlySpan<float> input, ReadOnlySpan<long> shape, string outputName, Span<float> output)
    {
        // Spans cannot live in the FloatTensorInput array, so copy them into pooled arrays; still no per-call
        // allocation of the data itself beyond the pool.
        var inBuffer = ArrayPool<float>.Shared.Rent(input.Length);
        try
        {
            input.CopyTo(inBuffer);
            var outInfo = outputs[ResolveOutput(outputName)];
            var shapeArray = shape.ToArray();
            var outShape = InferOutputShape(outInfo, shapeArray, output.Length);
            var outBuffer = ArrayPool<float>.Shared.Rent(output.Length);
            try
            {
                Run(
                    [new FloatTensorInput(inputName, inBuffer.AsMemory(0, input.Length), shapeArray)],
                    [new FloatTensorOutput(outputName, outBuffer.AsMemory(0, output.Length), outShape)]);
                outBuffer.AsSpan(0, output.Length).CopyTo(output);
                return outShape ?? [output.Length];
            }
            finally
            {
                ArrayPool<float>.Shared.Return(outBuffer);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(inBuffer);
        }
    }

    /// <summary>Releases the native session (after any calls still running return).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 0)
        {
            ReleaseReference();
        }
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"OnnxSession({string.Join(", ", inputs.Select(i => i.ToString()))} -> {string.Join(", ", outputs.Select(o => o.ToString()))})";

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);

    private void AddReference()
    {
        while (true)
        {
            var current = Volatile.Read(ref references);
            ObjectDisposedException.ThrowIf(current == 0, this);
            if (Interlocked.CompareExchange(ref references, current + 1, current) == current)
            {
                return;
            }
        }
    }

    private void ReleaseReference()
    {
        if (Interlocked.Decrement(ref references) == 0)
        {
            foreach (var entry in inputCache.Concat(outputCache))
            {
                entry?.Value.Dispose();
            }

            runOptions.Dispose();
            session.Dispose();
        }
    }

    private static unsafe Ort.OrtValue RentValue(CachedValue?[] cache, int slot, MemoryHandle pinned, int floats, long[] shape, out CachedValue entry)
    {
        var address = (nint)pinned.Pointer;
        var way = Way(slot, shape);
        var cached = Volatile.Read(ref cache[way]);
        if (cached is not null && cached.Matches(address, floats, shape) &&
            Interlocked.CompareExchange(ref cache[way], null, cached) == cached)
        {
            entry = cached;
            return cached.Value;
        }

        var value = CreateValueOver(address, (long)floats * sizeof(float), shape, TensorElementType.Float);
        entry = new CachedValue(value, address, floats, (long[])shape.Clone());
        return value;
    }

    private static void ReturnValue(CachedValue?[] cache, int slot, CachedValue? entry)
    {
        if (entry is not null)
        {
            Interlocked.Exchange(ref cache[Way(slot, entry.Shape)], entry)?.Value.Dispose();
        }
    }

    private static int Way(int slot, long[] shape)
    {
        var hash = 17L;
        foreach (var d in shape)
        {
            hash = (hash * 31) + d;
        }

        return (slot * CacheWays) + (int)(hash & (CacheWays - 1));
    }

    private static long[]? InferOutputShape(OnnxNodeInfo info, long[] inputShape, int bufferLength)
    {
        // Only a [batch, fixed...] output whose batch follows the input's first dimension can be bound in place.
        if (info.Rank == 0 || info.Shape.Skip(1).Any(d => d < 0) || inputShape.Length == 0)
        {
            return null;
        }

        var shape = (long[])info.Shape.Clone();
        if (shape[0] < 0)
        {
            shape[0] = inputShape[0];
        }

        return ElementCount(shape) == bufferLength ? shape : null;
    }

    private static void CopyFloatOutput(Ort.OrtValue value, FloatTensorOutput output)
    {
        var (type, shape) = ReadTypeAndShape(value, output.Name);
        if (type != TensorElementType.Float)
        {
            throw new InvalidOperationException($"Output '{output.Name}' came back as {type}, not Float.");
        }

        var count = ElementCount(shape);
        if (count != output.Buffer.Length)
        {
            throw new ArgumentException(
                $"Output '{output.Name}' has shape [{string.Join(", ", shape)}] ({count} floats), but the buffer has {output.Buffer.Length}.");
        }

        value.GetTensorDataAsSpan<float>().CopyTo(output.Buffer.Span);
    }

    private int ValidateInput(string name, TensorElementType type, long[] shape)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!inputIndex.TryGetValue(name, out var slot))
        {
            throw new ArgumentException(
                $"Unknown input '{name}'. The model's inputs are: {string.Join(", ", inputs.Select(i => i.ToString()))}.");
        }

        var info = inputs[slot];
        if (!info.IsTensor)
        {
            throw new ArgumentException($"Input '{name}' is a {info.Kind}, which this session cannot pass; only tensors.");
        }

        if (info.ElementType != type)
        {
            throw new ArgumentException(
                $"Input '{name}' expects element type {info.ElementType}, but the tensor is {type}.");
        }

        // ORT reports rank 0 both for scalars and for inputs whose shape the model leaves undeclared: only a
        // declared rank is checked here, and ORT checks the rest.
        if (info.Rank > 0)
        {
            if (shape.Length != info.Rank)
            {
                throw new ArgumentException(
                    $"Input '{name}' expects rank {info.Rank} {Describe(info)}, but the tensor has rank {shape.Length} [{string.Join(", ", shape)}].");
            }

            for (var d = 0; d < shape.Length; d++)
            {
                if (info.Shape[d] >= 0 && info.Shape[d] != shape[d])
                {
                    throw new ArgumentException(
                        $"Input '{name}' expects dimension {d} to be {info.Shape[d]} {Describe(info)}, but the tensor has {shape[d]} [{string.Join(", ", shape)}].");
                }
            }
        }

        return slot;

        static string Describe(OnnxNodeInfo info) =>
            $"(shape [{string.Join(", ", info.Shape.Select((d, i) => d >= 0 ? d.ToString(System.Globalization.CultureInfo.InvariantCulture) : info.SymbolicDims[i] ?? "?"))}])";
    }

    private void CheckAllInputsPresent(Func<string, bool> isGiven)
    {
        foreach (var info in inputs)
        {
            if (!isGiven(info.Name))
            {
                throw new ArgumentException($"Missing input '{info.Name}' ({info}). The model needs: {string.Join(", ", inputs.Select(i => i.Name))}.");
            }
        }
    }

    private string[] ResolveOutputs(IReadOnlyList<string>? names)
    {
        if (names is null)
        {
            return defaultOutputNames;
        }

        var resolved = new string[names.Count];
        for (var i = 0; i < resolved.Length; i++)
        {
            var info = outputs[ResolveOutput(names[i])];
            if (!info.IsTensor)
            {
                throw new NotSupportedException(
                    $"Output '{info.Name}' is a {info.Kind}, not a tensor; this session returns tensors only. " +
                    "(For sklearn-onnx classifiers, export with zipmap=False to get probabilities as a tensor.)");
            }

            resolved[i] = info.Name;
        }

        return resolved;
    }

    private int ResolveOutput(string name) => outputIndex.TryGetValue(name, out var slot)
        ? slot
        : throw new ArgumentException(
            $"Unknown output '{name}'. The model's outputs are: {string.Join(", ", outputs.Select(o => o.ToString()))}.");

    private static long ElementCount(ReadOnlySpan<long> shape)
    {
        long count = 1;
        foreach (var d in shape)
        {
            count *= d;
        }

        return count;
    }

    private static Ort.OrtValue CreateValue(OrtTensor tensor, out GCHandle pin)
    {
        pin = default;
        if (tensor.ElementType == TensorElementType.String)
        {
            return CreateStringValue((string[])tensor.Data, tensor.Shape);
        }

        pin = GCHandle.Alloc(tensor.Data, GCHandleType.Pinned);
        return CreateValueOver(pin.AddrOfPinnedObject(), tensor.ElementCount * tensor.ElementType.SizeOf(), tensor.Shape, tensor.ElementType);
    }

    private static Ort.OrtValue CreateValueOver(nint data, long byteLength, long[] shape, TensorElementType type) =>
        // ORT reads and writes the caller's memory in place; the caller keeps it pinned until the value is disposed.
        Ort.OrtValue.CreateTensorValueWithData(Ort.OrtMemoryInfo.DefaultInstance, (OrtElementType)type, shape, data, byteLength);

    private static Ort.OrtValue CreateStringValue(string[] data, long[] shape)
    {
        var value = Ort.OrtValue.CreateTensorWithEmptyStrings(Ort.OrtAllocator.DefaultInstance, shape);
        try
        {
            for (var i = 0; i < data.Length; i++)
            {
                value.StringTensorSetElementAt((data[i] ?? string.Empty).AsSpan(), i);
            }

            return value;
        }
        catch
        {
            value.Dispose();
            throw;
        }
    }

    private static (TensorElementType Type, long[] Shape) ReadTypeAndShape(Ort.OrtValue value, string name)
    {
        if (value.OnnxType != Ort.OnnxValueType.ONNX_TYPE_TENSOR)
        {
            throw new NotSupportedException($"Output '{name}' is a {(OnnxValueKind)value.OnnxType}, not a tensor.");
        }

        var info = value.GetTensorTypeAndShape();
        return ((TensorElementType)info.ElementDataType, info.Shape);
    }

    private static OrtTensor ReadTensor(Ort.OrtValue value, string name)
    {
        var (type, shape) = ReadTypeAndShape(value, name);
        if (type == TensorElementType.String)
        {
            return OrtTensor.FromString(value.GetStringTensorAsArray(), shape);
        }

        var count = checked((int)ElementCount(shape));
        var bytes = value.GetTensorMutableRawData();
        Array array = type switch
        {
            TensorElementType.Float => Copy<float>(bytes, count),
            TensorElementType.Double => Copy<double>(bytes, count),
            TensorElementType.Int64 => Copy<long>(bytes, count),
            TensorElementType.Int32 => Copy<int>(bytes, count),
            TensorElementType.Bool => Copy<bool>(bytes, count),
            TensorElementType.UInt8 => Copy<byte>(bytes, count),
            TensorElementType.Int8 => Copy<sbyte>(bytes, count),
            TensorElementType.Int16 => Copy<short>(bytes, count),
            TensorElementType.UInt16 => Copy<ushort>(bytes, count),
            TensorElementType.UInt32 => Copy<uint>(bytes, count),
            TensorElementType.UInt64 => Copy<ulong>(bytes, count),
            TensorElementType.Float16 => Copy<Half>(bytes, count),
            _ => throw new NotSupportedException($"Output '{name}' has element type {(int)type}, which this session does not read."),
        };
        return OrtTensor.FromArray(type, array, shape);
    }

    private static T[] Copy<T>(ReadOnlySpan<byte> bytes, int count)
        where T : unmanaged
    {
        var array = GC.AllocateUninitializedArray<T>(count);
        MemoryMarshal.Cast<byte, T>(bytes)[..count].CopyTo(array);
        return array;
    }

    private static Ort.SessionOptions CreateSessionOptions(OnnxSessionOptions options)
    {
        var sessionOptions = new Ort.SessionOptions();
        try
        {
            if (options.IntraOpThreads > 0)
            {
                sessionOptions.IntraOpNumThreads = options.IntraOpThreads;
            }

            if (options.InterOpThreads > 0)
            {
                sessionOptions.InterOpNumThreads = options.InterOpThreads;
            }

            sessionOptions.GraphOptimizationLevel = options.OptimizationLevel switch
            {
                GraphOptimizationLevel.None => Ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
                GraphOptimizationLevel.Basic => Ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
                GraphOptimizationLevel.Extended => Ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
                _ => Ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
            };
            return sessionOptions;
        }
        catch
        {
            sessionOptions.Dispose();
            throw;
        }
    }

    private static bool TryAppendCuda(Ort.SessionOptions sessionOptions, OnnxSessionOptions options)
    {
        try
        {
            // Loads libonnxruntime_providers_cuda.so from the app's output; without CUDA 13 and a driver ORT
            // reports "Failed to load shared library" here.
            sessionOptions.AppendExecutionProvider_CUDA(options.CudaDeviceId);
            return true;
        }
        catch (Ort.OnnxRuntimeException ex)
        {
            if (options.Logger is { } logger)
            {
                LogCudaUnavailable(logger, OnnxRuntimeException.From(ex).Message);
            }

            return false;
        }
    }

    private static Ort.InferenceSession CreateSession(byte[] model, Ort.SessionOptions options)
    {
        try
        {
            return new Ort.InferenceSession(model, options);
        }
        catch (Ort.OnnxRuntimeException e)
        {
            throw OnnxRuntimeException.From(e);
        }
    }

    private static OnnxNodeInfo[] ReadNodes(IReadOnlyList<string> names, IReadOnlyDictionary<string, Ort.NodeMetadata> metadata)
    {
        var nodes = new OnnxNodeInfo[names.Count];
        for (var i = 0; i < nodes.Length; i++)
        {
            var name = names[i];
            var node = metadata[name];
            if (node.OnnxValueType != Ort.OnnxValueType.ONNX_TYPE_TENSOR)
            {
                nodes[i] = new OnnxNodeInfo(name, TensorElementType.Undefined, [], []) { Kind = (OnnxValueKind)node.OnnxValueType };
                continue;
            }

            var shape = Array.ConvertAll(node.Dimensions, d => (long)d);
            var symbolic = new string?[shape.Length];
            for (var d = 0; d < symbolic.Length && d < node.SymbolicDimensions.Length; d++)
            {
                symbolic[d] = string.IsNullOrEmpty(node.SymbolicDimensions[d]) ? null : node.SymbolicDimensions[d];
            }

            nodes[i] = new OnnxNodeInfo(name, (TensorElementType)node.ElementDataType, shape, symbolic);
        }

        return nodes;
    }

    private static (IReadOnlyDictionary<string, string> Metadata, OnnxModelDescription Description) ReadMetadata(Ort.InferenceSession session)
    {
        var model = session.ModelMetadata;
        var description = new OnnxModelDescription(
            ProducerName: model.ProducerName ?? string.Empty,
            GraphName: model.GraphName ?? string.Empty,
            Domain: model.Domain ?? string.Empty,
            Description: model.Description ?? string.Empty,
            GraphDescription: model.GraphDescription ?? string.Empty,
            Version: model.Version);
        return (model.CustomMetadataMap.ToFrozenDictionary(StringComparer.Ordinal), description);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "ONNX Runtime could not create the session on CUDA ({Reason}); falling back to the CPU provider.")]
    private static partial void LogCudaSessionFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "ONNX Runtime's CUDA execution provider is not available ({Reason}); falling back to the CPU provider. The GPU needs CUDA 13 (libcudart, libcublas) and an NVIDIA driver on this machine.")]
    private static partial void LogCudaUnavailable(ILogger logger, string reason);
}

/// <summary>A native value over caller memory, with what it was made for.</summary>
internal sealed class CachedValue(Microsoft.ML.OnnxRuntime.OrtValue value, nint address, int floats, long[] shape)
{
    public Microsoft.ML.OnnxRuntime.OrtValue Value { get; } = value;

    public long[] Shape { get; } = shape;

    public bool Matches(nint pinnedAddress, int length, long[] dims) =>
        pinnedAddress == address && length == floats && dims.AsSpan().SequenceEqual(Shape);
}

/// <summary>The model-level fields ORT exposes besides custom metadata.</summary>
/// <param name="ProducerName">ModelProto.producer_name.</param>
/// <param name="GraphName">GraphProto.name.</param>
/// <param name="Domain">ModelProto.domain.</param>
/// <param name="Description">ModelProto.doc_string.</param>
/// <param name="GraphDescription">GraphProto.doc_string.</param>
/// <param name="Version">ModelProto.model_version.</param>
public sealed record OnnxModelDescription(
    string ProducerName,
    string GraphName,
    string Domain,
    string Description,
    string GraphDescription,
    long Version);

/// <summary>A float input for <see cref="OnnxSession.Run(ReadOnlySpan{FloatTensorInput}, ReadOnlySpan{FloatTensorOutput})"/>, read in place.</summary>
/// <param name="Name">The model input's name.</param>
/// <param name="Data">Row-major data; its length must equal the product of <paramref name="Shape"/>.</param>
/// <param name="Shape">The tensor's dimensions.</param>
public readonly record struct FloatTensorInput(string Name, ReadOnlyMemory<float> Data, long[] Shape);

/// <summary>A float output for <see cref="OnnxSession.Run(ReadOnlySpan{FloatTensorInput}, ReadOnlySpan{FloatTensorOutput})"/>.</summary>
/// <param name="Name">The model output's name.</param>
/// <param name="Buffer">Where the output goes; its length must equal the output's element count.</param>
/// <param name="Shape">The output's exact shape if known: ORT then writes straight into <paramref name="Buffer"/>
/// (no copy). Null: ORT allocates and the result is copied.</param>
public readonly record struct FloatTensorOutput(string Name, Memory<float> Buffer, long[]? Shape = null);
