using System.Runtime.InteropServices;
using Ctm.Onnx.Native;

namespace Ctm.Onnx;

/// <summary>An error that ONNX Runtime reported through an <c>OrtStatus</c>; the message is ORT's own.</summary>
public sealed class OnnxRuntimeException : Exception
{
    /// <summary>Creates an exception with ORT's error code and message.</summary>
    public OnnxRuntimeException(int errorCode, string message) : base(message) => ErrorCode = errorCode;

    /// <summary>Creates an exception with code <c>ORT_FAIL</c> (1).</summary>
    public OnnxRuntimeException(string message) : this(1, message)
    {
    }

    /// <summary>Creates an exception with code <c>ORT_FAIL</c> (1) and an inner exception.</summary>
    public OnnxRuntimeException(string message, Exception innerException) : base(message, innerException) => ErrorCode = 1;

    /// <summary>Creates an exception with code <c>ORT_FAIL</c> (1).</summary>
    public OnnxRuntimeException() : this(1, "ONNX Runtime failed.")
    {
    }

    /// <summary>
    /// ORT's <c>OrtErrorCode</c>: 1 FAIL, 2 INVALID_ARGUMENT, 3 NO_SUCHFILE, 4 NO_MODEL, 5 ENGINE_ERROR,
    /// 6 RUNTIME_EXCEPTION, 7 INVALID_PROTOBUF, 8 MODEL_LOADED, 9 NOT_IMPLEMENTED, 10 INVALID_GRAPH, 11 EP_FAIL.
    /// </summary>
    public int ErrorCode { get; }

    /// <summary>Takes ownership of a non-null status, releases it and returns the exception it describes.</summary>
    internal static unsafe OnnxRuntimeException FromStatus(nint status)
    {
        using var handle = new OrtStatusHandle(status);
        var code = OrtApi.GetErrorCode(status);
        var message = Marshal.PtrToStringUTF8((nint)OrtApi.GetErrorMessage(status)) ?? "(no message)";
        return new OnnxRuntimeException(code, message);
    }
}
