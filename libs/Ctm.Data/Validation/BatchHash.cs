using System.Security.Cryptography;

namespace Ctm.Data.Validation;

/// <summary>The identity of a batch's bytes, for duplicate detection.</summary>
public static class BatchHash
{
    /// <summary>The SHA-256 of the stream's remaining bytes, as lowercase hex.</summary>
    public static string Compute(Stream content)
    {
        ArgumentNullException.ThrowIfNull(content);
        return Convert.ToHexStringLower(SHA256.HashData(content));
    }

    /// <summary>The SHA-256 of <paramref name="content"/>, as lowercase hex.</summary>
    public static string Compute(ReadOnlySpan<byte> content) => Convert.ToHexStringLower(SHA256.HashData(content));
}
