namespace Ctm.Onnx;

/// <summary>An error that ONNX Runtime reported; the message is ORT's own.</summary>
public sealed class OnnxRuntimeException : Exception
{
    /// <summary>Creates an exception with ORT's error code and message.</summary>
    public OnnxRuntimeException(int errorCode, string message) : base(message) => ErrorCode = errorCode;

    /// <summary>Creates an exception with ORT's error code and message, wrapping the exception that carried them.</summary>
    public OnnxRuntimeException(int errorCode, string message, Exception innerException)
        : base(message, innerException) => ErrorCode = errorCode;

    /// <summary>Creates an exception with code <c>ORT_FAIL</c> (1).</summary>
    public OnnxRuntimeException(string message) : this(1, message)
    {
    }

    /// <summary>Creates an exception with code <c>ORT_FAIL</c> (1) and an inner exception.</summary>
    public OnnxRuntimeException(string message, Exception innerException) : this(1, message, innerException)
    {
    }

    /// <summary>Creates an exception with code <c>ORT_FAIL</c> (1).</summary>
    public OnnxRuntimeException() : this(1, "ONNX Runtime failed.")
    {
    }

    /// <summary>
    /// ORT's <c>OrtErrorCode</c>: 1 FAIL, 2 INVALID_ARGUMENT, 3 NO_SUCHFILE, 4 NO_MODEL, 5 ENGINE_ERROR,
    /// 6 RUNTIME_EXCEPTION, 7 INVALID_PROTOBUF, 8 MODEL_LOADED, 9 NOT_IMPLEMENTED, 10 INVALID_GRAPH, 11 EP_FAIL.
    /// </summary>
    public int ErrorCode { get; }

    // The managed package keeps the code in an internal enum and writes its name before the message.
    private static readonly Dictionary<string, int> CodesByName = new(StringComparer.Ordinal)
    {
        ["Fail"] = 1, ["InvalidArgument"] = 2, ["NoSuchFile"] = 3, ["NoModel"] = 4, ["EngineError"] = 5,
        ["RuntimeException"] = 6, ["InvalidProtobuf"] = 7, ["ModelLoaded"] = 8, ["NotImplemented"] = 9,
        ["InvalidGraph"] = 10, ["ShapeInferenceNotRegistered"] = 11, ["RequirementNotRegistered"] = 12,
    };

    /// <summary>
    /// The managed package's exception as ours: the code it names, ORT's message without the <c>[ErrorCode:…]</c>
    /// prefix the package adds, the original kept as the inner exception.
    /// </summary>
    internal static OnnxRuntimeException From(Microsoft.ML.OnnxRuntime.OnnxRuntimeException e)
    {
        const string Prefix = "[ErrorCode:";
        var message = e.Message;
        var code = 1;
        if (message.StartsWith(Prefix, StringComparison.Ordinal) && message.IndexOf(']', StringComparison.Ordinal) is var end and > 0)
        {
            code = CodesByName.GetValueOrDefault(message[Prefix.Length..end], 1);
            message = message[(end + 1)..].TrimStart();
        }

        return new OnnxRuntimeException(code, message, e);
    }
}
