using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Ctm.Contracts;
using MassTransit;

namespace Ctm.Ingest.Fast.Tests;

/// <summary>
/// What Ingest stores and announces: an upload becomes one <see cref="BatchIngested"/> whose claim check serves the
/// announced bytes; a retried upload (same Idempotency-Key) or a repeated row event has no second effect.
/// </summary>
public sealed class BatchesTests(IngestService ingest) : IClassFixture<IngestService>
{
    [Fact]
    public async Task Upload_Csv_202ReceiptAndOneBatchIngestedWhoseRowsHashAsAnnounced()
    {
        var response = await ingest.UploadAsync("churn", ChurnData.Csv(120, seed: 1));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var receipt = await response.Content.ReadFromJsonAsync<JsonElement>();
        var batchId = receipt.GetProperty("batchId").GetGuid();
        Assert.Equal(120, receipt.GetProperty("rowCount").GetInt64());
        var ingested = await ingest.Harness.PublishedAsync<BatchIngested>(m => m.BatchId == batchId);
        Assert.Equal(("churn", 120L, "http"), (ingested.Dataset, ingested.RowCount, ingested.Source));
        Assert.Equal(["tenure", "plan", "monthly_fee", "support_calls", "churned"], ingested.Columns);
        Assert.Equal(receipt.GetProperty("sha256").GetString(), ingested.Sha256);

        // The claim check the Validator redeems, with the service's key.
        Assert.Equal($"{IngestService.BaseUrl}v1/batches/{batchId}/rows", ingested.Location);
        using var service = ingest.Client(TestKeys.OnlyRole("service"));
        var rows = await service.GetByteArrayAsync($"v1/batches/{batchId}/rows");
        Assert.Equal(ingested.Sha256, Convert.ToHexStringLower(SHA256.HashData(rows)));
        Assert.Equal(ingested.ByteCount, rows.LongLength);
    }

    [Fact]
    public async Task Upload_RetriedWithTheSameIdempotencyKey_SameReceiptOneBatchOneEvent()
    {
        var csv = ChurnData.Csv(50, seed: 2);

        var first = await ingest.UploadAsync("retried", csv, idempotencyKey: "upload-7");
        var again = await ingest.UploadAsync("retried", csv, idempotencyKey: "upload-7");

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var batchId = (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("batchId").GetGuid();
        Assert.Equal(batchId, (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("batchId").GetGuid());
        await ingest.Harness.PublishedAsync<BatchIngested>(m => m.BatchId == batchId);
        Assert.Equal(1L, await ingest.Database.ScalarAsync<long>("SELECT count(*) FROM ingest.batches WHERE dataset = 'retried'"));
        Assert.Equal(1L, await ingest.Database.ScalarAsync<long>("SELECT count(*) FROM ingest.outbox WHERE message_type = 'Ctm.Contracts.BatchIngested'  AND payload->>'dataset' = 'retried'"));
    }

    [Fact]
    public async Task Upload_IdempotencyKeyReusedForOtherContent_422NamingTheKeyAndTheFirstBatch()
    {
        var first = await ingest.UploadAsync("reused", ChurnData.Csv(50, seed: 3), idempotencyKey: "upload-8");
        var batchId = (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("batchId").GetGuid();

        var other = await ingest.UploadAsync("reused", ChurnData.Csv(50, seed: 4), idempotencyKey: "upload-8");

        var problem = await other.ProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Contains("'upload-8'", problem.Detail, StringComparison.Ordinal);
        Assert.Equal(batchId, problem["batchId"]!.Value.GetGuid());
        Assert.Equal(1L, await ingest.Database.ScalarAsync<long>("SELECT count(*) FROM ingest.batches WHERE dataset = 'reused'"));
    }

    [Fact]
    public async Task RowEvents_OneRepeated_CutIntoOneBatchWithEachRowOnce()
    {
        static RowEvent Event(string id, int tenure) => new()
        {
            Dataset = "stream", EventId = id, Source = "crm",
            Row = JsonSerializer.SerializeToElement(new { tenure, plan = "pro", churned = "no" }),
        };

        // The batch is cut at three pending rows (the fixture's Ingest:RowEvents:MaxRows); the repeat adds none.
        await ingest.PublishAsync(Event("e-1", 1));
        await ingest.PublishAsync(Event("e-2", 2));
        await ingest.PublishAsync(Event("e-1", 1));
        await ingest.PublishAsync(Event("e-3", 3));

        var consumed = await ingest.Harness.ConsumedAsync<RowEvent>(m => m.Dataset == "stream", 4);
        Assert.All(consumed, c => Assert.Null(c.Exception));
        var batch = await ingest.Harness.PublishedAsync<BatchIngested>(m => m.Dataset == "stream");
        Assert.Equal(3, batch.RowCount);
        Assert.Equal(0L, await ingest.Database.ScalarAsync<long>("SELECT count(*) FROM ingest.pending_rows WHERE dataset = 'stream'"));
        Assert.Equal(("bus", "crm"), (batch.Source, batch.Upstream));
        Assert.Empty(ingest.Harness.PublishedSoFar<Fault<RowEvent>>(f => f.Message.Dataset == "stream"));
    }

    [Fact]
    public async Task RowEvent_WithoutADataset_FaultedAtOnceAndNothingStored()
    {
        var poison = new RowEvent { EventId = "no-dataset", Row = JsonSerializer.SerializeToElement(new { tenure = 1 }) };

        await ingest.PublishAsync(poison);

        var fault = await ingest.Harness.PublishedAsync<Fault<RowEvent>>(f => f.Message.EventId == "no-dataset");
        Assert.Contains("dataset", fault.Exceptions[0].Message, StringComparison.Ordinal);
        Assert.Equal(0L, await ingest.Database.ScalarAsync<long>("SELECT count(*) FROM ingest.row_event_keys WHERE event_key = 'no-dataset'"));
    }
}
