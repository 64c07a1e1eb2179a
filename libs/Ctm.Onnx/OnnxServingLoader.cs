namespace Ctm.Onnx;

/// <summary>
/// Loads a model the way serving does and proves it runs: creates the session, then runs it once on inputs built from
/// the model's declared shapes and types (symbolic or unknown dimensions taken as 1, zeros, empty strings, false).
/// The Registry judges uploads with it and the Predictor loads with it, so a model is refused at upload exactly when
/// a replica would refuse it.
/// </summary>
public static class OnnxServingLoader
{
    /// <summary>Creates the session and warms it up.</summary>
    /// <exception cref="OnnxModelRefusedException">ONNX Runtime cannot load or run the model; the message carries its reason.</exception>
    public static OnnxSession Load(byte[] model, OnnxSessionOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        OnnxSession session;
        try
        {
            session = OnnxSession.Create(model, options);
        }
        catch (Exception e) when (e is OnnxRuntimeException or ArgumentException or InvalidOperationException or NotSupportedException or InvalidDataException)
        {
            throw new OnnxModelRefusedException("load", $"ONNX Runtime cannot load the model: {e.Message}", e);
        }

        try
        {
            WarmUp(session);
            return session;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>Runs <paramref name="session"/> once on <see cref="WarmUpInputs"/>, asking for every tensor output.</summary>
    /// <exception cref="OnnxModelRefusedException">An input is not a tensor, or ONNX Runtime fails the run.</exception>
    public static void WarmUp(OnnxSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        var inputs = WarmUpInputs(session.Inputs);
        var outputs = session.Outputs.Where(o => o.IsTensor).Select(o => o.Name).ToList();
        if (outputs.Count == 0)
        {
            throw new OnnxModelRefusedException("inputs", $"the model has no tensor output ({string.Join(", ", session.Outputs)}); export it without a ZipMap (e.g. skl2onnx options zipmap=False)");
        }

        try
        {
            session.Run(inputs, outputs);
        }
        catch (Exception e) when (e is OnnxRuntimeException or ArgumentException or InvalidOperationException or NotSupportedException)
        {
            var fed = string.Join(", ", inputs.Select(i => $"{i.Key}: {i.Value}"));
            throw new OnnxModelRefusedException("warm-up", $"ONNX Runtime failed the warm-up run on inputs of the declared shapes ({fed}): {e.Message}", e);
        }
    }

    /// <summary>One tensor per input, of its declared type and shape (a symbolic or unknown dimension is 1), filled with zeros, empty strings or false.</summary>
    /// <exception cref="OnnxModelRefusedException">An input is a sequence or a map, which cannot be sent as a tensor.</exception>
    public static IReadOnlyDictionary<string, OrtTensor> WarmUpInputs(IReadOnlyList<OnnxNodeInfo> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var feeds = new Dictionary<string, OrtTensor>(StringComparer.Ordinal);
        foreach (var input in inputs)
        {
            if (!input.IsTensor)
            {
                throw new OnnxModelRefusedException("inputs", $"input '{input.Name}' is a {input.Kind}; only tensor inputs can be sent over the serving protocols");
            }

            var shape = ConcreteShape(input.Shape);
            var count = checked((int)shape.Aggregate(1L, (a, d) => a * d));
            feeds[input.Name] = OrtTensor.FromArray(input.ElementType, ZeroArray(input.ElementType, count, input.Name), shape);
        }

        return feeds;
    }

    /// <summary>
    /// Why requests for a model cannot be cut into rows (one per instance) and several requests merged into one run, or
    /// null when they can: every input is <c>[N]</c> or <c>[N, k]</c> with N symbolic and k fixed, and every tensor
    /// output has that symbolic N first. A model with a fixed first dimension, a rank above 2, or an output that does
    /// not follow the rows (a scalar, a fixed first dimension, an undeclared shape) must be run on the tensors as sent.
    /// </summary>
    public static string? RowBatchingProblem(IReadOnlyList<OnnxNodeInfo> inputs, IReadOnlyList<OnnxNodeInfo> outputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        if (inputs.Count == 0)
        {
            return "the model has no inputs";
        }

        foreach (var input in inputs)
        {
            if (!input.IsTensor || input.Rank is < 1 or > 2)
            {
                return $"input {input} is not [N] or [N, k]";
            }

            if (input.Shape[0] >= 0)
            {
                return $"input {input} has a fixed first dimension";
            }

            if (input.Rank == 2 && input.Shape[1] < 0)
            {
                return $"input {input} has a symbolic second dimension";
            }
        }

        foreach (var output in outputs.Where(o => o.IsTensor))
        {
            if (output.Rank == 0 || output.Shape[0] >= 0)
            {
                return $"output {output} does not declare one row per input row";
            }
        }

        return null;
    }

    /// <summary>The declared shape with every symbolic or unknown dimension (negative) taken as 1.</summary>
    public static long[] ConcreteShape(IReadOnlyList<long> declared)
    {
        ArgumentNullException.ThrowIfNull(declared);
        return [.. declared.Select(d => d < 0 ? 1L : d)];
    }

    private static Array ZeroArray(TensorElementType type, int count, string name) => type switch
    {
        TensorElementType.Float => new float[count],
        TensorElementType.Double => new double[count],
        TensorElementType.Float16 => new Half[count],
        TensorElementType.Int8 => new sbyte[count],
        TensorElementType.Int16 => new short[count],
        TensorElementType.Int32 => new int[count],
        TensorElementType.Int64 => new long[count],
        TensorElementType.UInt8 => new byte[count],
        TensorElementType.UInt16 => new ushort[count],
        TensorElementType.UInt32 => new uint[count],
        TensorElementType.UInt64 => new ulong[count],
        TensorElementType.Bool => new bool[count],
        TensorElementType.String => Enumerable.Repeat(string.Empty, count).ToArray(),
        _ => throw new OnnxModelRefusedException("inputs", $"input '{name}' has element type {type}, which cannot be sent over the serving protocols"),
    };
}
