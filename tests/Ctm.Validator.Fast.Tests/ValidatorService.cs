using System.Text;
using Ctm.Contracts;

namespace Ctm.Validator.Fast.Tests;

/// <summary>
/// The Validator in this process on a database of its own, the bus being MassTransit's test harness; batches are
/// served over loopback as Ingest serves them (a claim check the Validator redeems).
/// </summary>
public sealed class ValidatorService() : ServiceFactory<Program>("validator"), IAsyncLifetime
{
    private readonly ArtifactHost _batches = new();

    /// <summary>How many times a batch was fetched: each attempt at a decision redeems the claim check once.</summary>
    public int BatchFetches => _batches.Requests;

    /// <summary>What Ingest publishes after storing <paramref name="csv"/> as a batch of <paramref name="dataset"/>.</summary>
    public BatchIngested Ingested(string dataset, string csv) => Ingested(dataset, Encoding.UTF8.GetBytes(csv));

    public BatchIngested Ingested(string dataset, byte[] content)
    {
        var (url, sha) = _batches.Add(content);
        using var reader = new StreamReader(new MemoryStream(content));
        return new BatchIngested
        {
            BatchId = Guid.NewGuid(),
            Dataset = dataset,
            CorrelationId = Guid.NewGuid(),
            RowCount = content.Count(b => b == (byte)'\n') - 1,
            Sha256 = sha,
            ByteCount = content.Length,
            Location = url,
            Columns = (reader.ReadLine() ?? "").Split(','),
            Source = "http",
            IngestedAt = DateTimeOffset.UtcNow,
        };
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _batches.Dispose();
    }
}
