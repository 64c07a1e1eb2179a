using System.Buffers;
using System.Collections.Frozen;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Ctm.Onnx.Native;
using Microsoft.Extensions.Logging;

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
public sealed unsafe class OnnxSession : IDisposable
{
    private const int OnnxTypeTensor = 1;

    private readonly OrtSessionHandle session;
    private readonly OnnxNodeInfo[] inputs;
    private readonly OnnxNodeInfo[] outputs;
    private readonly FrozenDictionary<string, int> inputIndex;
    private readonly FrozenDictionary<string, int> outputIndex;

    // UTF-8, NUL-terminated names on the pinned object heap: their addresses stay valid for the session's life
    // and no call has to marshal names again.
    private readonly byte[][] inputNamesUtf8;
    private readonly byte[][] outputNamesUtf8;
    private readonly int[] defaultOutputs;

    private OnnxSession(
        OrtSessionHandle session,
        OnnxNodeInfo[] inputs,
        OnnxNodeInfo[] outputs,
        IReadOnlyDictionary<string, string> metadata,
        OnnxModelDescription description,
        ExecutionProvider activeProvider)
    {
        this.session = session;
        this.inputs = inputs;
        this.outputs = outputs;
        Metadata = metadata;
        Description = description;
        ActiveProvider = activeProvider;
        inputIndex = inputs.Select((n, i) => KeyValuePair.Create(n.Name, i)).ToFrozenDictionary(StringComparer.Ordinal);
        outputIndex = outputs.Select((n, i) => KeyValuePair.Create(n.Name, i)).ToFrozenDictionary(StringComparer.Ordinal);
        inputNamesUtf8 = [.. inputs.Select(n => PinnedUtf8(n.Name))];
        outputNamesUtf8 = [.. outputs.Select(n => PinnedUtf8(n.Name))];
        defaultOutputs = [.. Enumerable.Range(0, outputs.Length).Where(i => outputs[i].IsTensor)];
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
    /// <exception cref="DllNotFoundException">The ORT library is not installed (see <see cref="OnnxRuntime"/>).</exception>
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
        OrtRuntime.EnsureLoaded();

        var provider = options.Provider;
        OrtSessionHandle handle;
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
                handle = CreateSession(model, sessionOptions);
            }
            catch (OnnxRuntimeException ex) when (provider == ExecutionProvider.Cuda)
            {
                // The CUDA provider library can load yet fail when the session initialises (no device, driver mismatch).
                options.Logger?.LogWarning(
                    "ONNX Runtime could not create the session on CUDA ({Reason}); falling back to the CPU provider.",
                    ex.Message);
                provider = ExecutionProvider.Cpu;
                sessionOptions.Dispose();
                sessionOptions = CreateSessionOptions(options);
                handle = CreateSession(model, sessionOptions);
            }
        }
        finally
        {
            sessionOptions.Dispose();
        }

        try
        {
            var s = handle.DangerousGetHandle();
            var inputInfos = ReadNodes(s, output: false);
            var outputInfos = ReadNodes(s, output: true);
            var (metadata, description) = ReadMetadata(s);
            return new OnnxSession(handle, inputInfos, outputInfos, metadata, description, provider);
        }
        catch
        {
            handle.Dispose();
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
        ObjectDisposedException.ThrowIf(session.IsClosed, this);
        var inputCount = inputs.Count;
        var inputSlots = new int[inputCount];
        var inputTensors = new OrtTensor[inputCount];
        var k = 0;
        foreach (var (name, tensor) in inputs)
        {
            ArgumentNullException.ThrowIfNull(tensor, name);
            inputSlots[k] = ValidateInput(name, tensor.ElementType, tensor.Shape);
            inputTensors[k] = tensor;
            k++;
        }

        CheckAllInputsPresent(inputs.ContainsKey);
        var outputSlots = ResolveOutputs(outputNames);

        var inputValues = new OrtValueHandle?[inputCount];
        var pins = new GCHandle[inputCount];
        var outputValues = new OrtValueHandle?[outputSlots.Length];
        Span<nint> inNames = inputCount <= 16 ? stackalloc nint[inputCount] : new nint[inputCount];
        Span<nint> inValues = inputCount <= 16 ? stackalloc nint[inputCount] : new nint[inputCount];
        Span<nint> outNames = outputSlots.Length <= 16 ? stackalloc nint[outputSlots.Length] : new nint[outputSlots.Length];
        Span<nint> outValues = outputSlots.Length <= 16 ? stackalloc nint[outputSlots.Length] : new nint[outputSlots.Length];
        outValues.Clear();
        try
        {
            for (var i = 0; i < inputCount; i++)
            {
                inNames[i] = NameAddress(inputNamesUtf8[inputSlots[i]]);
                inputValues[i] = CreateValue(inputTensors[i], out pins[i]);
                inValues[i] = inputValues[i]!.DangerousGetHandle();
            }

            for (var i = 0; i < outputSlots.Length; i++)
            {
                outNames[i] = NameAddress(outputNamesUtf8[outputSlots[i]]);
            }

            RunCore(inNames, inValues, outNames, outValues);
            for (var i = 0; i < outValues.Length; i++)
            {
                if (outValues[i] != nint.Zero)
                {
                    outputValues[i] = new OrtValueHandle(outValues[i]);
                    outValues[i] = nint.Zero;
                }
            }

            var results = new OrtTensor[outputSlots.Length];
            for (var i = 0; i < results.Length; i++)
            {
                results[i] = ReadTensor(outputValues[i]!.DangerousGetHandle(), outputs[outputSlots[i]].Name);
            }

            return results;
        }
        finally
        {
            foreach (var value in outValues)
            {
                if (value != nint.Zero)
                {
                    OrtApi.ReleaseValue(value);
                }
            }

            foreach (var value in outputValues)
            {
                value?.Dispose();
            }

            foreach (var value in inputValues)
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
        }
    }

    /// <summary>
    /// The hot-loop path for float models: reads each input in place from caller memory (no copy) and writes
    /// each output into a caller buffer.
    /// </summary>
    /// <remarks>
    /// With <see cref="FloatTensorOutput.Shape"/> given, ORT computes straight into the caller's buffer (no copy,
    /// no allocation; the shape must be exactly what the model produces). Without it, ORT allocates the output
    /// and it is copied once; the buffer's length must then equal the output's element count. The only managed
    /// allocations per call are the small <c>SafeHandle</c>s for the native values. Input checks are the same as
    /// for <see cref="Run(IReadOnlyDictionary{string, OrtTensor}, IReadOnlyList{string})"/>. Buffers must not be
    /// changed by other threads during the call.
    /// </remarks>
    /// <exception cref="ArgumentException">An input or output is unknown, missing, not float, or mis-sized.</exception>
    /// <exception cref="OnnxRuntimeException">ORT failed to run.</exception>
    public void Run(ReadOnlySpan<FloatTensorInput> inputs, ReadOnlySpan<FloatTensorOutput> outputs)
    {
        ObjectDisposedException.ThrowIf(session.IsClosed, this);
        var inputCount = inputs.Length;
        Span<int> inputSlots = inputCount <= 16 ? stackalloc int[inputCount] : new int[inputCount];
        for (var i = 0; i < inputCount; i++)
        {
            var input = inputs[i];
            ArgumentNullException.ThrowIfNull(input.Name);
            ArgumentNullException.ThrowIfNull(input.Shape, input.Name);
            inputSlots[i] = ValidateInput(input.Name, TensorElementType.Float, input.Shape);
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
        for (var i = 0; i < outputCount; i++)
        {
            var output = outputs[i];
            ArgumentNullException.ThrowIfNull(output.Name);
            outputSlots[i] = ResolveOutput(output.Name);
            var info = this.outputs[outputSlots[i]];
            if (info.ElementType != TensorElementType.Float)
            {
                throw new ArgumentException($"Output '{output.Name}' is {info.ElementType}, not Float; use the OrtTensor Run for it.");
            }

            if (output.Shape is { } shape && ElementCount(shape) != output.Buffer.Length)
            {
                throw new ArgumentException(
                    $"Output '{output.Name}': shape [{string.Join(", ", shape)}] holds {ElementCount(shape)} floats, but the buffer has {output.Buffer.Length}.");
            }
        }

        var inputValues = new OrtValueHandle?[inputCount];
        var outputValues = new OrtValueHandle?[outputCount];
        var pins = new MemoryHandle[inputCount + outputCount];
        Span<nint> inNames = inputCount <= 16 ? stackalloc nint[inputCount] : new nint[inputCount];
        Span<nint> inValues = inputCount <= 16 ? stackalloc nint[inputCount] : new nint[inputCount];
        Span<nint> outNames = outputCount <= 16 ? stackalloc nint[outputCount] : new nint[outputCount];
        Span<nint> outValues = outputCount <= 16 ? stackalloc nint[outputCount] : new nint[outputCount];
        outValues.Clear();
        try
        {
            for (var i = 0; i < inputCount; i++)
            {
                inNames[i] = NameAddress(inputNamesUtf8[inputSlots[i]]);
                pins[i] = inputs[i].Data.Pin();
                inputValues[i] = CreateValueOver(pins[i].Pointer, inputs[i].Data.Length * sizeof(float), inputs[i].Shape, TensorElementType.Float);
                inValues[i] = inputValues[i]!.DangerousGetHandle();
            }

            for (var i = 0; i < outputCount; i++)
            {
                outNames[i] = NameAddress(outputNamesUtf8[outputSlots[i]]);
                if (outputs[i].Shape is { } shape)
                {
                    pins[inputCount + i] = outputs[i].Buffer.Pin();
                    outputValues[i] = CreateValueOver(pins[inputCount + i].Pointer, outputs[i].Buffer.Length * sizeof(float), shape, TensorElementType.Float);
                    outValues[i] = outputValues[i]!.DangerousGetHandle();
                }
            }

            RunCore(inNames, inValues, outNames, outValues);
            for (var i = 0; i < outputCount; i++)
            {
                if (outputValues[i] is not null)
                {
                    continue;
                }

                outputValues[i] = new OrtValueHandle(outValues[i]);
                CopyFloatOutput(outValues[i], outputs[i]);
            }
        }
        finally
        {
            for (var i = 0; i < outputCount; i++)
            {
                if (outputValues[i] is { } value)
                {
                    value.Dispose();
                }
                else if (outValues[i] != nint.Zero)
                {
                    OrtApi.ReleaseValue(outValues[i]);
                }
            }

            foreach (var value in inputValues)
            {
                value?.Dispose();
            }

            foreach (var pin in pins)
            {
                pin.Dispose();
            }
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
    public void Dispose() => session.Dispose();

    /// <inheritdoc />
    public override string ToString() =>
        $"OnnxSession({string.Join(", ", inputs.Select(i => i.ToString()))} -> {string.Join(", ", outputs.Select(o => o.ToString()))})";

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

    private static void CopyFloatOutput(nint value, FloatTensorOutput output)
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

        void* data;
        OrtRuntime.Check(OrtApi.GetTensorMutableData(value, &data));
        new ReadOnlySpan<float>(data, (int)count).CopyTo(output.Buffer.Span);
    }

    private void RunCore(ReadOnlySpan<nint> inNames, ReadOnlySpan<nint> inValues, ReadOnlySpan<nint> outNames, Span<nint> outValues)
    {
        var added = false;
        try
        {
            session.DangerousAddRef(ref added);
            fixed (nint* inNamesPtr = inNames)
            fixed (nint* inValuesPtr = inValues)
            fixed (nint* outNamesPtr = outNames)
            fixed (nint* outValuesPtr = outValues)
            {
                OrtRuntime.Check(OrtApi.Run(
                    session.DangerousGetHandle(),
                    nint.Zero,
                    inNamesPtr,
                    inValuesPtr,
                    (nuint)inNames.Length,
                    outNamesPtr,
                    (nuint)outNames.Length,
                    outValuesPtr));
            }
        }
        finally
        {
            if (added)
            {
                session.DangerousRelease();
            }
        }
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
            throw new ArgumentException($"Input '{name}' is a {info.Kind}, which this binding cannot pass; only tensors.");
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

    private int[] ResolveOutputs(IReadOnlyList<string>? names)
    {
        if (names is null)
        {
            return defaultOutputs;
        }

        var slots = new int[names.Count];
        for (var i = 0; i < slots.Length; i++)
        {
            slots[i] = ResolveOutput(names[i]);
            var info = outputs[slots[i]];
            if (!info.IsTensor)
            {
                throw new NotSupportedException(
                    $"Output '{info.Name}' is a {info.Kind}, not a tensor; this binding returns tensors only. " +
                    "(For sklearn-onnx classifiers, export with zipmap=False to get probabilities as a tensor.)");
            }
        }

        return slots;
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

    private static byte[] PinnedUtf8(string value)
    {
        var bytes = GC.AllocateArray<byte>(Encoding.UTF8.GetByteCount(value) + 1, pinned: true);
        Encoding.UTF8.GetBytes(value, bytes);
        return bytes;
    }

    private static nint NameAddress(byte[] pinnedName) => (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinnedName));

    private static OrtValueHandle CreateValue(OrtTensor tensor, out GCHandle pin)
    {
        pin = default;
        if (tensor.ElementType == TensorElementType.String)
        {
            return CreateStringValue((string[])tensor.Data, tensor.Shape);
        }

        pin = GCHandle.Alloc(tensor.Data, GCHandleType.Pinned);
        return CreateValueOver(
            (void*)pin.AddrOfPinnedObject(),
            tensor.ElementCount * tensor.ElementType.SizeOf(),
            tensor.Shape,
            tensor.ElementType);
    }

    private static OrtValueHandle CreateValueOver(void* data, long byteLength, long[] shape, TensorElementType type)
    {
        nint value;
        long scalarShape = 0;
        fixed (long* shapePtr = shape)
        {
            OrtRuntime.Check(OrtApi.CreateTensorWithDataAsOrtValue(
                OrtRuntime.CpuMemoryInfo.DangerousGetHandle(),
                data,
                (nuint)byteLength,
                shape.Length == 0 ? &scalarShape : shapePtr,
                (nuint)shape.Length,
                (int)type,
                &value));
        }

        return new OrtValueHandle(value);
    }

    private static OrtValueHandle CreateStringValue(string[] data, long[] shape)
    {
        nint value;
        long scalarShape = 0;
        fixed (long* shapePtr = shape)
        {
            OrtRuntime.Check(OrtApi.CreateTensorAsOrtValue(
                OrtRuntime.DefaultAllocator,
                shape.Length == 0 ? &scalarShape : shapePtr,
                (nuint)shape.Length,
                (int)TensorElementType.String,
                &value));
        }

        var handle = new OrtValueHandle(value);
        try
        {
            var total = 0;
            foreach (var s in data)
            {
                total += Encoding.UTF8.GetByteCount(s ?? string.Empty) + 1;
            }

            var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(total, 1));
            var pointers = ArrayPool<nint>.Shared.Rent(Math.Max(data.Length, 1));
            try
            {
                fixed (byte* bufferPtr = buffer)
                fixed (nint* pointersPtr = pointers)
                {
                    var offset = 0;
                    for (var i = 0; i < data.Length; i++)
                    {
                        pointers[i] = (nint)(bufferPtr + offset);
                        offset += Encoding.UTF8.GetBytes(data[i] ?? string.Empty, buffer.AsSpan(offset));
                        buffer[offset++] = 0;
                    }

                    OrtRuntime.Check(OrtApi.FillStringTensor(value, (byte**)pointersPtr, (nuint)data.Length));
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
                ArrayPool<nint>.Shared.Return(pointers);
            }

            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static (TensorElementType Type, long[] Shape) ReadTypeAndShape(nint value, string name)
    {
        int valueType;
        OrtRuntime.Check(OrtApi.GetValueType(value, &valueType));
        if (valueType != OnnxTypeTensor)
        {
            throw new NotSupportedException($"Output '{name}' is a {(OnnxValueKind)valueType}, not a tensor.");
        }

        nint info;
        OrtRuntime.Check(OrtApi.GetTensorTypeAndShape(value, &info));
        using var infoHandle = new OrtTensorTypeAndShapeInfoHandle(info);
        var (type, shape, _) = ReadTensorInfo(info, symbolic: false);
        return (type, shape);
    }

    private static OrtTensor ReadTensor(nint value, string name)
    {
        var (type, shape) = ReadTypeAndShape(value, name);
        var count = ElementCount(shape);
        if (type == TensorElementType.String)
        {
            return OrtTensor.FromString(ReadStrings(value, count), shape);
        }

        void* data;
        OrtRuntime.Check(OrtApi.GetTensorMutableData(value, &data));
        Array array = type switch
        {
            TensorElementType.Float => Copy<float>(data, count),
            TensorElementType.Double => Copy<double>(data, count),
            TensorElementType.Int64 => Copy<long>(data, count),
            TensorElementType.Int32 => Copy<int>(data, count),
            TensorElementType.Bool => Copy<bool>(data, count),
            TensorElementType.UInt8 => Copy<byte>(data, count),
            TensorElementType.Int8 => Copy<sbyte>(data, count),
            TensorElementType.Int16 => Copy<short>(data, count),
            TensorElementType.UInt16 => Copy<ushort>(data, count),
            TensorElementType.UInt32 => Copy<uint>(data, count),
            TensorElementType.UInt64 => Copy<ulong>(data, count),
            TensorElementType.Float16 => Copy<Half>(data, count),
            _ => throw new NotSupportedException($"Output '{name}' has element type {(int)type}, which this binding does not read."),
        };
        return OrtTensor.FromArray(type, array, shape);
    }

    private static T[] Copy<T>(void* data, long count)
        where T : unmanaged
    {
        var array = GC.AllocateUninitializedArray<T>(checked((int)count));
        new ReadOnlySpan<T>(data, array.Length).CopyTo(array);
        return array;
    }

    private static string[] ReadStrings(nint value, long count)
    {
        var strings = new string[count];
        if (count == 0)
        {
            return strings;
        }

        nuint length;
        OrtRuntime.Check(OrtApi.GetStringTensorDataLength(value, &length));
        var bytes = ArrayPool<byte>.Shared.Rent(Math.Max((int)length, 1));
        var offsets = ArrayPool<nuint>.Shared.Rent((int)count);
        try
        {
            fixed (byte* bytesPtr = bytes)
            fixed (nuint* offsetsPtr = offsets)
            {
                OrtRuntime.Check(OrtApi.GetStringTensorContent(value, bytesPtr, length, offsetsPtr, (nuint)count));
            }

            for (var i = 0; i < count; i++)
            {
                var start = (int)offsets[i];
                var end = i + 1 < count ? (int)offsets[i + 1] : (int)length;
                strings[i] = Encoding.UTF8.GetString(bytes, start, end - start);
            }

            return strings;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
            ArrayPool<nuint>.Shared.Return(offsets);
        }
    }

    private static (TensorElementType Type, long[] Shape, string?[] Symbolic) ReadTensorInfo(nint info, bool symbolic)
    {
        int type;
        OrtRuntime.Check(OrtApi.GetTensorElementType(info, &type));
        nuint rank;
        OrtRuntime.Check(OrtApi.GetDimensionsCount(info, &rank));
        var shape = new long[(int)rank];
        var names = new string?[(int)rank];
        if (rank > 0)
        {
            fixed (long* shapePtr = shape)
            {
                OrtRuntime.Check(OrtApi.GetDimensions(info, shapePtr, rank));
            }

            if (symbolic)
            {
                var pointers = new nint[(int)rank];
                fixed (nint* pointersPtr = pointers)
                {
                    OrtRuntime.Check(OrtApi.GetSymbolicDimensions(info, (byte**)pointersPtr, rank));
                }

                for (var i = 0; i < names.Length; i++)
                {
                    var text = pointers[i] == nint.Zero ? null : Marshal.PtrToStringUTF8(pointers[i]);
                    names[i] = string.IsNullOrEmpty(text) ? null : text;
                }
            }
        }

        return ((TensorElementType)type, shape, names);
    }

    private static OrtSessionOptionsHandle CreateSessionOptions(OnnxSessionOptions options)
    {
        nint raw;
        OrtRuntime.Check(OrtApi.CreateSessionOptions(&raw));
        var handle = new OrtSessionOptionsHandle(raw);
        try
        {
            if (options.IntraOpThreads > 0)
            {
                OrtRuntime.Check(OrtApi.SetIntraOpNumThreads(raw, options.IntraOpThreads));
            }

            if (options.InterOpThreads > 0)
            {
                OrtRuntime.Check(OrtApi.SetInterOpNumThreads(raw, options.InterOpThreads));
            }

            OrtRuntime.Check(OrtApi.SetSessionGraphOptimizationLevel(raw, (int)options.OptimizationLevel));
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static bool TryAppendCuda(OrtSessionOptionsHandle sessionOptions, OnnxSessionOptions options)
    {
        try
        {
            nint raw;
            OrtRuntime.Check(OrtApi.CreateCudaProviderOptions(&raw));
            using var cudaOptions = new OrtCudaProviderOptionsHandle(raw);
            var key = "device_id\0"u8;
            var value = Encoding.UTF8.GetBytes(options.CudaDeviceId.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\0");
            fixed (byte* keyPtr = key)
            fixed (byte* valuePtr = value)
            {
                OrtRuntime.Check(OrtApi.UpdateCudaProviderOptions(raw, &keyPtr, &valuePtr, 1));
            }

            OrtRuntime.Check(OrtApi.SessionOptionsAppendExecutionProviderCudaV2(sessionOptions.DangerousGetHandle(), raw));
            return true;
        }
        catch (OnnxRuntimeException ex)
        {
            options.Logger?.LogWarning(
                "ONNX Runtime's CUDA execution provider is not available ({Reason}); falling back to the CPU provider. " +
                "Set CTM_ONNXRUNTIME_LIB to a CUDA build of ONNX Runtime to use the GPU.",
                ex.Message);
            return false;
        }
    }

    private static OrtSessionHandle CreateSession(byte[] model, OrtSessionOptionsHandle options)
    {
        nint raw;
        fixed (byte* modelPtr = model)
        {
            OrtRuntime.Check(OrtApi.CreateSessionFromArray(
                OrtRuntime.Env.DangerousGetHandle(),
                modelPtr,
                (nuint)model.Length,
                options.DangerousGetHandle(),
                &raw));
        }

        return new OrtSessionHandle(raw);
    }

    private static OnnxNodeInfo[] ReadNodes(nint session, bool output)
    {
        nuint count;
        OrtRuntime.Check(output ? OrtApi.SessionGetOutputCount(session, &count) : OrtApi.SessionGetInputCount(session, &count));
        var nodes = new OnnxNodeInfo[(int)count];
        for (nuint i = 0; i < count; i++)
        {
            nint namePtr;
            OrtRuntime.Check(output
                ? OrtApi.SessionGetOutputName(session, i, OrtRuntime.DefaultAllocator, &namePtr)
                : OrtApi.SessionGetInputName(session, i, OrtRuntime.DefaultAllocator, &namePtr));
            string name;
            using (var nameHandle = new OrtAllocatedHandle(namePtr))
            {
                name = nameHandle.ReadString();
            }

            nint typeInfo;
            OrtRuntime.Check(output
                ? OrtApi.SessionGetOutputTypeInfo(session, i, &typeInfo)
                : OrtApi.SessionGetInputTypeInfo(session, i, &typeInfo));
            using var typeHandle = new OrtTypeInfoHandle(typeInfo);
            int onnxType;
            OrtRuntime.Check(OrtApi.GetOnnxTypeFromTypeInfo(typeInfo, &onnxType));
            if (onnxType != OnnxTypeTensor)
            {
                nodes[(int)i] = new OnnxNodeInfo(name, TensorElementType.Undefined, [], []) { Kind = (OnnxValueKind)onnxType };
                continue;
            }

            nint tensorInfo;
            // Owned by the type info: not released separately.
            OrtRuntime.Check(OrtApi.CastTypeInfoToTensorInfo(typeInfo, &tensorInfo));
            var (type, shape, symbolic) = ReadTensorInfo(tensorInfo, symbolic: true);
            nodes[(int)i] = new OnnxNodeInfo(name, type, shape, symbolic);
        }

        return nodes;
    }

    private static (IReadOnlyDictionary<string, string> Metadata, OnnxModelDescription Description) ReadMetadata(nint session)
    {
        nint raw;
        OrtRuntime.Check(OrtApi.SessionGetModelMetadata(session, &raw));
        using var metadata = new OrtModelMetadataHandle(raw);
        var allocator = OrtRuntime.DefaultAllocator;

        nint keys;
        long keyCount;
        OrtRuntime.Check(OrtApi.ModelMetadataGetCustomMetadataMapKeys(raw, allocator, &keys, &keyCount));
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (keys != nint.Zero)
        {
            using var keysArray = new OrtAllocatedHandle(keys);
            // Take ownership of every key first so all are freed even if a lookup fails.
            var keyHandles = new OrtAllocatedHandle[keyCount];
            for (var i = 0; i < keyCount; i++)
            {
                keyHandles[i] = new OrtAllocatedHandle(((nint*)keys)[i]);
            }

            try
            {
                foreach (var keyHandle in keyHandles)
                {
                    var key = keyHandle.ReadString();
                    nint valuePtr;
                    OrtRuntime.Check(OrtApi.ModelMetadataLookupCustomMetadataMap(raw, allocator, (byte*)keyHandle.DangerousGetHandle(), &valuePtr));
                    using var valueHandle = new OrtAllocatedHandle(valuePtr);
                    map[key] = valuePtr == nint.Zero ? string.Empty : valueHandle.ReadString();
                }
            }
            finally
            {
                foreach (var keyHandle in keyHandles)
                {
                    keyHandle.Dispose();
                }
            }
        }

        long version;
        OrtRuntime.Check(OrtApi.ModelMetadataGetVersion(raw, &version));
        var description = new OnnxModelDescription(
            ProducerName: ReadMetadataString(raw, OrtApi.ModelMetadataGetProducerName),
            GraphName: ReadMetadataString(raw, OrtApi.ModelMetadataGetGraphName),
            Domain: ReadMetadataString(raw, OrtApi.ModelMetadataGetDomain),
            Description: ReadMetadataString(raw, OrtApi.ModelMetadataGetDescription),
            GraphDescription: ReadMetadataString(raw, OrtApi.ModelMetadataGetGraphDescription),
            Version: version);
        return (map.ToFrozenDictionary(StringComparer.Ordinal), description);
    }

    private static string ReadMetadataString(nint metadata, delegate* unmanaged<nint, nint, nint*, nint> getter)
    {
        nint value;
        OrtRuntime.Check(getter(metadata, OrtRuntime.DefaultAllocator, &value));
        using var handle = new OrtAllocatedHandle(value);
        return value == nint.Zero ? string.Empty : handle.ReadString();
    }
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
