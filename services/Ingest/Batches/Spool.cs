using System.Security.Cryptography;

namespace Ctm.Ingest.Batches;

/// <summary>A request body copied to a temporary file as it arrives, counted against the limit and hashed on the way.</summary>
public sealed class Spool : IAsyncDisposable
{
    private Spool(FileStream file, long bytes, string sha256)
    {
        File = file;
        Bytes = bytes;
        Sha256 = sha256;
    }

    /// <summary>The spooled body, at position 0; deleted when disposed.</summary>
    public FileStream File { get; }
    public long Bytes { get; }

    /// <summary>The SHA-256 of the body as sent (what an Idempotency-Key is bound to).</summary>
    public string Sha256 { get; }

    /// <summary>
    /// Copies <paramref name="body"/> to a temporary file; null when it is longer than <paramref name="limit"/>. What
    /// follows the limit is read and dropped, up to <paramref name="drain"/> more bytes, so that a client still sending
    /// gets the answer rather than a reset connection.
    /// </summary>
    public static async Task<Spool?> CopyAsync(Stream body, long limit, long drain, string directory, CancellationToken ct)
    {
        var file = CreateFile(directory);
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[1 << 16];
            long total = 0;
            int read;
            while ((read = await body.ReadAsync(buffer, ct)) > 0)
            {
                total += read;
                if (total > limit)
                {
                    await file.DisposeAsync();
                    await DrainAsync(body, drain, buffer, ct);
                    return null;
                }

                hash.AppendData(buffer, 0, read);
                await file.WriteAsync(buffer.AsMemory(0, read), ct);
            }

            await file.FlushAsync(ct);
            file.Position = 0;
            return new Spool(file, total, Convert.ToHexStringLower(hash.GetHashAndReset()));
        }
        catch
        {
            await file.DisposeAsync();
            throw;
        }
    }

    private static async Task DrainAsync(Stream body, long drain, byte[] buffer, CancellationToken ct)
    {
        try
        {
            long dropped = 0;
            int read;
            while (dropped < drain && (read = await body.ReadAsync(buffer, ct)) > 0)
            {
                dropped += read;
            }
        }
        catch (BadHttpRequestException)
        {
            // Past what the server reads at all: the connection is closed after the answer.
        }
    }

    /// <summary>A temporary file, deleted when closed.</summary>
    public static FileStream CreateFile(string directory) =>
        new(Path.Combine(directory, $"ctm-ingest-{Guid.NewGuid():N}.tmp"), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16,
            FileOptions.DeleteOnClose | FileOptions.Asynchronous);

    public ValueTask DisposeAsync() => File.DisposeAsync();
}
