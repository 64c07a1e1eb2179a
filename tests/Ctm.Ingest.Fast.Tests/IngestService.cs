using System.Net.Http.Headers;
using System.Text;

namespace Ctm.Ingest.Fast.Tests;

/// <summary>Ingest in this process on a database of its own, the bus being MassTransit's test harness.</summary>
public sealed class IngestService() : ServiceFactory<Program>("ingest"), IAsyncLifetime
{
    public const string BaseUrl = "http://ingest.test/";

    /// <summary>Ingest:MaxUploadBytes here, so a test can go past it with a small body.</summary>
    public const int MaxUploadBytes = 64 * 1024;

    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Services:Ingest"] = BaseUrl,
        ["Ingest:MaxUploadBytes"] = MaxUploadBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        // Row events are cut into a batch at three pending rows, never by age: what a batch holds does not depend on timing.
        ["Ingest:RowEvents:MaxRows"] = "3",
        ["Ingest:RowEvents:MaxDelaySeconds"] = "3600",
    };

    /// <summary>POSTs <paramref name="body"/> as an upload of <paramref name="dataset"/> with the producer's key.</summary>
    public async Task<HttpResponseMessage> UploadAsync(string dataset, string body, string contentType = "text/csv", string? idempotencyKey = null, string? identity = null)
    {
        using var client = Client(identity ?? TestKeys.OnlyRole("producer"));
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"v1/datasets/{dataset}/batches") { Content = content };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return await client.SendAsync(request);
    }
}
