using System.Security.Cryptography;
using Ctm.ServiceDefaults.Http;

namespace Ctm.Validator.Validation;

/// <summary>Redeems a claim check: fetches a batch's rows from Ingest and checks they are the bytes that were announced.</summary>
public sealed class BatchFetcher(IHttpClientFactory http)
{
    public async Task<byte[]> FetchAsync(string location, string sha256, CancellationToken ct)
    {
        using var client = http.CreateClient(HttpExtensions.ClientName);
        var bytes = await client.GetByteArrayAsync(location, ct);
        var actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (!string.Equals(actual, sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"The rows at {location} have SHA-256 {actual}, not the announced {sha256}");
        }

        return bytes;
    }
}
