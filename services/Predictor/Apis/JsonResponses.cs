using System.Buffers;
using System.Text.Json;

namespace Ctm.Predictor.Apis;

/// <summary>Writes JSON straight into the response pipe (the prediction hot path avoids intermediate objects).</summary>
public static class JsonResponses
{
    /// <summary>Starts a JSON response; write with the returned writer, then <see cref="CompleteAsync"/>.</summary>
    public static Utf8JsonWriter Begin(HttpResponse response, int status)
    {
        response.StatusCode = status;
        response.ContentType = "application/json";
        var buffer = new ArrayBufferWriter<byte>(256);
        response.HttpContext.Features.Set(new PendingBody(buffer));
        return new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true });
    }

    /// <summary>
    /// Sends the response with its Content-Length, in one write: written straight into the pipe, it went out chunked, and
    /// the closing chunk cost a second send per request.
    /// </summary>
    public static async Task CompleteAsync(HttpResponse response, Utf8JsonWriter writer)
    {
        await using (writer)
        {
            writer.Flush();
        }

        var body = response.HttpContext.Features.Get<PendingBody>()!.Buffer;
        response.ContentLength = body.WrittenCount;
        await response.BodyWriter.WriteAsync(body.WrittenMemory);
    }

    private sealed record PendingBody(ArrayBufferWriter<byte> Buffer);

    /// <summary>A request body in a buffer rented from the shared pool.</summary>
    public sealed class RequestBody(byte[] buffer, int length) : IDisposable
    {
        private byte[]? _buffer = buffer;

        public ReadOnlyMemory<byte> Memory => (_buffer ?? throw new ObjectDisposedException(nameof(RequestBody))).AsMemory(0, length);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _buffer, null) is { } b)
            {
                ArrayPool<byte>.Shared.Return(b);
            }
        }
    }

    /// <summary><c>{"error": message}</c>, the error form of both TF Serving REST and the Open Inference Protocol.</summary>
    public static Task ErrorAsync(HttpResponse response, int status, string message, int? retryAfterSeconds = null)
    {
        if (retryAfterSeconds is { } seconds)
        {
            response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        var writer = Begin(response, status);
        writer.WriteStartObject();
        writer.WriteString("error"u8, message);
        writer.WriteEndObject();
        return CompleteAsync(response, writer);
    }

    private const int FirstBufferCap = 1 << 20;

    /// <summary>The request body's bytes, in one pooled buffer (return it by disposing).</summary>
    public static async Task<RequestBody> ReadBytesAsync(HttpRequest request, CancellationToken ct)
    {
        // Read through the stream: a read loop on the body's pipe (AdvanceTo(start, end) until IsCompleted) came back short on
        // chunked bodies. One byte over a known length lets the last read see the end without growing the buffer.
        // The first buffer is capped: Content-Length is the client's claim, and Kestrel enforces the body size limit only
        // as the body is read, so an uncapped rent would allocate whatever a request declares before any check.
        var stream = request.Body;
        var buffer = ArrayPool<byte>.Shared.Rent(request.ContentLength is { } length and >= 0 and < FirstBufferCap ? (int)length + 1 : request.ContentLength is null ? 4096 : FirstBufferCap);
        var count = 0;
        try
        {
            while (true)
            {
                if (count == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, count).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await stream.ReadAsync(buffer.AsMemory(count), ct);
                if (read == 0)
                {
                    return new RequestBody(buffer, count);
                }

                count += read;
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    /// <summary>Parses a body read by <see cref="ReadBytesAsync"/> (keep it until the document is disposed); null (and a 400 written) if it is not JSON.</summary>
    public static async Task<JsonDocument?> ParseAsync(HttpRequest request, RequestBody body)
    {
        try
        {
            return JsonDocument.Parse(body.Memory);
        }
        catch (JsonException e)
        {
            await NotJsonAsync(request, e);
            return null;
        }
    }

    /// <summary>Parses the request body; null (and a 400 written) if it is not JSON.</summary>
    public static async Task<JsonDocument?> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        try
        {
            return await JsonDocument.ParseAsync(request.Body, cancellationToken: ct);
        }
        catch (JsonException e)
        {
            await NotJsonAsync(request, e);
            return null;
        }
    }

    private static Task NotJsonAsync(HttpRequest request, JsonException e) =>
        ErrorAsync(request.HttpContext.Response, StatusCodes.Status400BadRequest, $"the request body is not valid JSON: {e.Message}");
}
