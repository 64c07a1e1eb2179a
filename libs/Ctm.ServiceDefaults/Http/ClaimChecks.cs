using System.Security.Cryptography;

namespace Ctm.ServiceDefaults.Http;

/// <summary>The bytes at a claim-check location are not the ones the message announced.</summary>
public sealed class ClaimCheckMismatchException(string location, string actual, string expected)
    : IOException($"The content at {location} has SHA-256 {actual}, not the announced {expected}")
{
    /// <summary>The location fetched.</summary>
    public string Location { get; } = location;

    /// <summary>The SHA-256 of what was fetched.</summary>
    public string Actual { get; } = actual;

    /// <summary>The SHA-256 the message announced.</summary>
    public string Expected { get; } = expected;
}

/// <summary>
/// Redeeming a claim check: the bus carries a location and a SHA-256, the receiver fetches the bytes from the
/// owning service and accepts them only if they hash to what was announced.
/// </summary>
public static class ClaimChecks
{
    /// <summary>Fetches <paramref name="location"/> with the shared resilient client and verifies its SHA-256.</summary>
    /// <exception cref="ClaimCheckMismatchException">The bytes hash to something else.</exception>
    /// <exception cref="HttpRequestException">The owner did not answer with the bytes (its status code is on the exception).</exception>
    public static async Task<byte[]> RedeemClaimCheckAsync(this IHttpClientFactory http, string location, string expectedSha256, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(http);
        using var client = http.CreateClient(HttpExtensions.ClientName);
        var bytes = await client.GetByteArrayAsync(location, ct);
        var actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
        return string.Equals(actual, expectedSha256, StringComparison.OrdinalIgnoreCase)
            ? bytes
            : throw new ClaimCheckMismatchException(location, actual, expectedSha256);
    }
}
