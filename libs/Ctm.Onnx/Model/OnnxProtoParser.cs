using Google.Protobuf;

namespace Ctm.Onnx.Model;

/// <summary>Parses a model's bytes into one of the generated ModelProto views, with Ctm.Onnx's errors.</summary>
internal static class OnnxProtoParser
{
    /// <summary>A parser that drops fields its message does not declare: a view skips them without copying.</summary>
    public static MessageParser<T> Discarding<T>(MessageParser<T> parser)
        where T : IMessage<T> => parser.WithDiscardUnknownFields(true);

    /// <exception cref="InvalidDataException">The bytes are not a protobuf message, or it has no graph.</exception>
    public static T ParseModel<T>(MessageParser<T> parser, ReadOnlySpan<byte> model, Func<T, bool> hasGraph)
        where T : IMessage<T>
    {
        T message;
        try
        {
            message = parser.ParseFrom(model);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"Not a well-formed ONNX model ({model.Length} bytes, protobuf ModelProto): {e.Message}", e);
        }

        // Random bytes can decode as some protobuf message; every ONNX model has ModelProto.graph (field 7).
        if (!hasGraph(message))
        {
            throw new InvalidDataException($"Not an ONNX model ({model.Length} bytes): ModelProto.graph (field 7) is missing.");
        }

        return message;
    }
}
