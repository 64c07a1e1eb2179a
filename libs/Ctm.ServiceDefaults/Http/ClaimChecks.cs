using System.Security.Cryptography;

namespace Ctm.ServiceDefaults.Http;

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
