using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Ctm.Contracts;
using MassTransit;

using Ctm.Testing;

namespace Ctm.EndToEnd.Tests;

/// <summary>The whole flow through the five running services, on the real RabbitMQ and PostgreSQL.</summary>
public sealed class FlowTests(SystemFixture system) : IClassFixture<SystemFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task TwoGoodBatchesAndOneBad_BadIsQuarantined_ServedVersionLineageIsTheGoodBatches_AndItPredicts()
    {
        const string dataset = "churn-e2e";
        using var ingest = system.Client("Ingest");
        using var validator = system.Client("Validator");
        using var registry = system.Client("Registry");
        using var predictor = system.Client("Predictor");

        (await validator.PutAsJsonAsync($"v1/datasets/{dataset}/config", new { labelColumn = "churned", task = "binary" })).EnsureSuccessStatusCode();

        var good1 = await UploadAsync(ingest, dataset, ChurnData.Csv(400, seed: 1));
        var good2 = await UploadAsync(ingest, dataset, ChurnData.Csv(400, seed: 2));
        var bad = await UploadAsync(ingest, dataset, ChurnData.Csv(200, seed: 3, wrongSchema: true));

        var decisions = await system.EventuallyAsync(async () =>
        {
            var list = await validator.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/batches");
            return list is { Count: 3 } ? list : null;
        }, Patience, "three validation decisions");
        var badDecision = decisions.Single(d => d.GetProperty("batchId").GetGuid() == bad);
        Assert.Equal("quarantined", badDecision.GetProperty("status").GetString());
        var reasons = badDecision.GetProperty("reasons").EnumerateArray().ToList();
        Assert.Contains(reasons, r => r.GetProperty("kind").GetString() == "missing-column" && r.GetProperty("feature").GetString() == "tenure");
        Assert.Contains(reasons, r => r.GetProperty("kind").GetString() == "unexpected-column" && r.GetProperty("feature").GetString() == "tenure_months");
        Assert.Contains(reasons, r => r.GetProperty("kind").GetString() == "type-mismatch" && r.GetProperty("feature").GetString() == "monthly_fee");
        Assert.All(decisions.Where(d => d.GetProperty("batchId").GetGuid() != bad), d => Assert.Equal("accepted", d.GetProperty("status").GetString()));

        // The newest version is trained on both good batches; its lineage is exactly those, never the bad one.
        var served = (await system.EventuallyAsync<JsonElement?>(async () =>
        {
            var serving = await TryGetAsync(registry, $"v1/datasets/{dataset}/serving");
            if (serving is null)
            {
                return (JsonElement?)null;
            }

            var version = serving.Value.GetProperty("version").GetInt32();
            var lineage = await registry.GetFromJsonAsync<JsonElement>($"v1/datasets/{dataset}/versions/{version}");
            var batches = lineage.GetProperty("batchIds").EnumerateArray().Select(b => b.GetGuid()).ToHashSet();
            return batches.SetEquals([good1, good2]) ? lineage : null;
        }, Patience, "a served version trained on both good batches"))!.Value;
        var servedVersion = served.GetProperty("version").GetInt32();
        Assert.DoesNotContain(bad, served.GetProperty("batchIds").EnumerateArray().Select(b => b.GetGuid()));
        Assert.True(served.GetProperty("metrics").GetProperty("accuracy").GetDouble() > 0.6, served.ToString());

        var prediction = (await system.EventuallyAsync<JsonElement?>(async () =>
        {
            var response = await predictor.PostAsJsonAsync($"v1/models/{dataset}:predict", new
            {
                instances = new object[]
                {
                    new { tenure = 2, plan = "basic", monthly_fee = 95.0, support_calls = 6 },
                    new { tenure = 58, plan = "team", monthly_fee = 20.0, support_calls = 0 },
                },
            });
            if (!response.IsSuccessStatusCode)
            {
                return (JsonElement?)null;
            }

            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            return body.GetProperty("model_version").GetString() == servedVersion.ToString(System.Globalization.CultureInfo.InvariantCulture) ? body : null;
        }, Patience, $"a prediction from v{servedVersion}"))!.Value;
        var predictions = prediction.GetProperty("predictions").EnumerateArray().ToList();
        Assert.Equal(2, predictions.Count);
        Assert.Equal("yes", predictions[0].GetProperty("label").GetString());
        Assert.Equal("no", predictions[1].GetProperty("label").GetString());
        var p = predictions[0].GetProperty("probabilities");
        Assert.Equal(1.0, p.GetProperty("yes").GetDouble() + p.GetProperty("no").GetDouble(), 4);
    }

    [Fact]
    public async Task SameBatchIngestedDeliveredTwice_HasOneEffect()
    {
        const string dataset = "duplicates";
        using var ingest = system.Client("Ingest");
        using var validator = system.Client("Validator");
        using var trainer = system.Client("Trainer");

        var batchId = await UploadAsync(ingest, dataset, ChurnData.Csv(100, seed: 7));
        var receipt = await ingest.GetFromJsonAsync<JsonElement>($"v1/batches/{batchId}");
        await system.EventuallyAsync(async () => (await validator.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/batches")) is { Count: 1 } l ? l : null, Patience, "the first decision");

        // Deliver the same event again, twice, as a redelivering broker or a replaying upstream would.
        var bus = await system.BusAsync();
        var again = new BatchIngested
        {
            BatchId = batchId,
            Dataset = dataset,
            CorrelationId = Guid.NewGuid(),
            RowCount = receipt.GetProperty("rowCount").GetInt64(),
            Sha256 = receipt.GetProperty("sha256").GetString()!,
            ByteCount = receipt.GetProperty("byteCount").GetInt64(),
            Location = receipt.GetProperty("location").GetString()!,
            Columns = [.. receipt.GetProperty("columns").EnumerateArray().Select(c => c.GetString()!)],
            Source = "http",
            IngestedAt = DateTimeOffset.UtcNow,
        };
        var messageId = NewId.NextGuid();
        await bus.Publish(again, c => c.MessageId = messageId);
        await bus.Publish(again, c => c.MessageId = messageId);

        // A marker batch published after the duplicates: once it is decided, the duplicates were consumed too (same queue, in order).
        var marker = await UploadAsync(ingest, dataset, ChurnData.Csv(100, seed: 8));
        var decisions = await system.EventuallyAsync(async () =>
        {
            var list = await validator.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/batches");
            return list?.Any(d => d.GetProperty("batchId").GetGuid() == marker) == true ? list : null;
        }, Patience, "the marker batch's decision");
        Assert.Single(decisions, d => d.GetProperty("batchId").GetGuid() == batchId);

        // One accepted event for the batch reached the Trainer: one job, not three.
        var jobs = await system.EventuallyAsync(async () =>
        {
            var list = await trainer.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/jobs");
            return list is { Count: 2 } ? list : null;
        }, Patience, "two training jobs (the batch and the marker)");
        Assert.Single(jobs, j => j.GetProperty("triggerKey").GetString()!.Contains(batchId.ToString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task IngestKilledRightAfterAnsweringAccepted_BatchIsStillValidated()
    {
        const string dataset = "crash-after-202";
        using (var ingest = system.Client("Ingest"))
        {
            var batchId = await UploadAsync(ingest, dataset, ChurnData.Csv(50, seed: 11));
            // A crash, not a shutdown: whatever the outbox relay had not yet published must survive in the database.
            system["Ingest"].Kill();
            await system.RestartAsync("Ingest");

            using var validator = system.Client("Validator");
            var decisions = await system.EventuallyAsync(async () =>
            {
                var list = await validator.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/batches");
                return list is { Count: > 0 } ? list : null;
            }, Patience, "a decision for the batch uploaded just before the crash");
            Assert.Equal(batchId, decisions.Single().GetProperty("batchId").GetGuid());
        }
    }

    [Theory]
    [InlineData("a,b,label\n1,2,yes\n3,4\n", "text/csv", "line 3", "expected 3 fields")]
    [InlineData("a,b,label\n1,2,yes\n3,4,no,extra\n", "text/csv", "line 3, column 8", "expected 3 fields")]
    [InlineData("a,b,label\n1,\"2,yes\n", "text/csv", "line 2, column 3", "never closed")]
    [InlineData("a,b,label\n1,2\"x,yes\n", "text/csv", "line 2, column 4", "quote inside an unquoted field")]
    [InlineData("a,b,label\n\"1\"x,2,yes\n", "text/csv", "line 2, column 4", "after the closing quote")]
    [InlineData("", "text/csv", "line 1, column 1", "empty")]
    [InlineData("a,b,label\n", "text/csv", "no data rows", "no data rows")]
    [InlineData("a,a,label\n1,2,3\n", "text/csv", "line 1, column 3", "duplicate column name 'a'")]
    [InlineData("a,b,label\n1,2,yes\n", "application/pdf", "application/pdf", "text/csv")]
    [InlineData("{\"a\":1}\n{\"a\":[1]}\n", "application/x-ndjson", "line 2", "only strings, numbers")]
    [InlineData("{\"a\":1}\n{\"a\":\n", "application/x-ndjson", "line 2", "invalid JSON")]
    public async Task MalformedUpload_Gets400NamingTheProblem_AndNothingIsStored(string body, string contentType, string where, string what)
    {
        using var ingest = system.Client("Ingest");
        var dataset = "malformed-" + Guid.NewGuid().ToString("N")[..8];
        using var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        var response = await ingest.PostAsync($"v1/datasets/{dataset}/batches", content);
        var problem = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(where, problem, StringComparison.Ordinal);
        Assert.Contains(what, problem, StringComparison.Ordinal);
        var stored = await ingest.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/batches");
        Assert.Empty(stored!);
    }

    [Fact]
    public async Task RowEventsFromAPlainAmqpClient_AreGatheredIntoABatch()
    {
        const string dataset = "row-events";
        using var ingest = system.Client("Ingest");
        var factory = new RabbitMQ.Client.ConnectionFactory
        {
            Uri = Testing.TestEnvironment.RabbitMq,
            VirtualHost = system.Infrastructure.VirtualHost,
        };
        await using (var connection = await factory.CreateConnectionAsync())
        await using (var channel = await connection.CreateChannelAsync())
        {
            for (var i = 0; i < 5; i++)
            {
                // No MassTransit envelope: what a Python or Go upstream would publish.
                var json = $$$"""{"dataset":"{{{dataset}}}","eventId":"evt-{{{i}}}","row":{"x":{{{i}}},"color":"c{{{i % 2}}}","label":"{{{(i % 2 == 0 ? "yes" : "no")}}}"}}""";
                await channel.BasicPublishAsync("ctm.rows", string.Empty, false, new RabbitMQ.Client.BasicProperties { ContentType = "application/json" }, Encoding.UTF8.GetBytes(json));
            }

            // A repeated event id is stored once.
            await channel.BasicPublishAsync("ctm.rows", string.Empty, false, new RabbitMQ.Client.BasicProperties { ContentType = "application/json" }, Encoding.UTF8.GetBytes($$$"""{"dataset":"{{{dataset}}}","eventId":"evt-0","row":{"x":0,"color":"c0","label":"yes"}}"""));
        }

        var batches = await system.EventuallyAsync(async () =>
        {
            var list = await ingest.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/batches");
            return list is { Count: > 0 } ? list : null;
        }, Patience, "a batch cut from the row events");
        Assert.Single(batches);
        Assert.Equal(5, batches[0].GetProperty("rowCount").GetInt64());
        Assert.Equal("bus", batches[0].GetProperty("source").GetString());
        var rows = await ingest.GetStringAsync(batches[0].GetProperty("location").GetString());
        // Events are consumed concurrently, so rows keep commit order, not publish order.
        var lines = rows.TrimEnd('\n').Split('\n');
        Assert.Equal("x,color,label", lines[0]);
        Assert.Equal(["0,c0,yes", "1,c1,no", "2,c0,yes", "3,c1,no", "4,c0,yes"], lines[1..].Order(StringComparer.Ordinal));
    }

    private static async Task<Guid> UploadAsync(HttpClient ingest, string dataset, string csv)
    {
        using var content = new StringContent(csv, Encoding.UTF8, "text/csv");
        var response = await ingest.PostAsync($"v1/datasets/{dataset}/batches", content);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("batchId").GetGuid();
    }

    private static async Task<JsonElement?> TryGetAsync(HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        return response.StatusCode == HttpStatusCode.NotFound ? null : await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();
    }
}
