using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Ctm.Testing;
using RabbitMQ.Client;

namespace Ctm.EndToEnd.Tests.Faults;

/// <summary>
/// Bad and oversize input against the running Ingest and Validator: each is refused at the edge with the limit and the
/// position, or stored exactly once, and nothing answered 2xx is lost.
/// </summary>
public sealed class InputFaultTests
{
    private static readonly Dictionary<string, string> Limits = new()
    {
        ["Ingest__MaxUploadBytes"] = (16 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Ingest__RowEvents__MaxRows"] = "10",
    };

    [Fact]
    public async Task BadUploads_AreRefusedWithLimitAndPosition_GoodOnesDecidedOnce()
    {
        var system = await FaultSystem.StartAsync(Limits);
        try
        {
            using var ingest = system.Client("Ingest");
            var good = ChurnData.Csv(200, seed: 7);
            var sent = 0;
            var accepted = new List<Guid>();

            // A NUL byte on line 3: refused with its line and column, not stored.
            var lines = good.Split('\n');
            lines[2] = lines[2][..4] + "\0" + lines[2][4..];
            var nul = await PostAsync(ingest, "faults", string.Join('\n', lines), null);
            sent++;
            Assert.Equal(HttpStatusCode.BadRequest, nul.Status);
            Assert.Equal((3, 5), (nul.Body.GetProperty("line").GetInt32(), nul.Body.GetProperty("column").GetInt32()));
            Assert.Contains("NUL", nul.Body.GetProperty("detail").GetString(), StringComparison.Ordinal);

            // A 10 MB field: 413 naming the setting and where the field starts.
            var huge = "a,b\n1," + new string('x', 10 * 1024 * 1024) + "\n";
            var field = await PostAsync(ingest, "faults", huge, null);
            sent++;
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, field.Status);
            Assert.Equal("Ingest:Limits:MaxFieldChars", field.Body.GetProperty("limit").GetString());
            Assert.Equal((2, 3), (field.Body.GetProperty("line").GetInt32(), field.Body.GetProperty("column").GetInt32()));

            // A chunked upload past the size limit (no Content-Length to refuse it by): 413 once the limit is crossed.
            using (var chunked = new StreamContent(new ChunkedCsv(24 * 1024 * 1024)))
            {
                chunked.Headers.ContentType = new("text/csv");
                using var request = new HttpRequestMessage(HttpMethod.Post, "v1/datasets/faults/batches") { Content = chunked };
                request.Headers.TransferEncodingChunked = true;
                var response = await ingest.SendAsync(request);
                sent++;
                Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
                var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
                Assert.Equal("Ingest:MaxUploadBytes", problem.GetProperty("limit").GetString());
            }

            // Invalid UTF-8 on line 2: reported on line 2.
            var bytes = Encoding.UTF8.GetBytes("a,b\n1,").Concat(new byte[] { 0xFF }).Concat("\n"u8.ToArray()).ToArray();
            using (var content = new ByteArrayContent(bytes))
            {
                content.Headers.ContentType = new("text/csv");
                var response = await ingest.PostAsync("v1/datasets/faults/batches", content);
                sent++;
                var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
                Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
                Assert.Equal((2, 3), (problem.GetProperty("line").GetInt32(), problem.GetProperty("column").GetInt32()));
            }

            // The same Idempotency-Key: the same body gets the first receipt, another body 422.
            var first = await PostAsync(ingest, "faults", good, "key-1");
            var again = await PostAsync(ingest, "faults", good, "key-1");
            var other = await PostAsync(ingest, "faults", ChurnData.Csv(200, seed: 8), "key-1");
            sent += 3;
            Assert.Equal(HttpStatusCode.Accepted, first.Status);
            Assert.Equal(HttpStatusCode.OK, again.Status);
            Assert.Equal(first.Body.GetProperty("batchId").GetGuid(), again.Body.GetProperty("batchId").GetGuid());
            Assert.Equal(HttpStatusCode.UnprocessableEntity, other.Status);
            accepted.Add(first.Body.GetProperty("batchId").GetGuid());

            var report = await ReportAsync(system, "bad uploads (NUL, 10 MB field, 24 MiB chunked, invalid UTF-8, reused Idempotency-Key)", sent, accepted);
            Assert.Equal(0, report.Lost);
            Assert.Equal(0, report.Duplicated);
        }
        finally
        {
            await system.DisposeAsync();
        }
    }

    [Fact]
    public async Task RowEvents_RepeatedAcrossABatchCut_AreStoredOnce_MalformedOnesGoToTheErrorQueueUnretried()
    {
        var system = await FaultSystem.StartAsync(Limits);
        try
        {
            using var ingest = system.Client("Ingest");
            var factory = new ConnectionFactory { Uri = new Uri(TestEnvironment.RabbitMq, system.Infrastructure.VirtualHost) };
            factory.VirtualHost = system.Infrastructure.VirtualHost;
            await using var connection = await factory.CreateConnectionAsync();
            await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));

            async Task PublishAsync(string json, string? messageId)
            {
                var properties = new BasicProperties { ContentType = "application/json", Persistent = true, MessageId = messageId };
                await channel.BasicPublishAsync("ctm.rows", string.Empty, mandatory: false, properties, Encoding.UTF8.GetBytes(json));
            }

            static string Event(string id, bool withEventId) =>
                "{\"dataset\":\"events\"," + (withEventId ? $"\"eventId\":\"{id}\"," : "") + $"\"row\":{{\"eid\":\"{id}\",\"x\":{id.Length}}}}}";

            var sent = 0;
            // 30 events with an eventId and 5 with only a non-GUID AMQP message id: cut into batches of 10.
            var ids = Enumerable.Range(0, 30).Select(i => $"order-{i}").ToList();
            var bare = Enumerable.Range(0, 5).Select(i => $"msg:{i}").ToList();
            foreach (var id in ids)
            {
                await PublishAsync(Event(id, withEventId: true), null);
                sent++;
            }

            foreach (var id in bare)
            {
                await PublishAsync(Event(id, withEventId: false), id);
                sent++;
            }

            await system.EventuallyAsync(async () => (await BatchedRowsAsync(ingest)).Count >= 35 ? "all" : null, TimeSpan.FromSeconds(60), "35 rows cut into batches");

            // Every one again, after its batch was cut, and the bare ones twice more.
            foreach (var id in ids)
            {
                await PublishAsync(Event(id, withEventId: true), null);
                sent++;
            }

            for (var round = 0; round < 2; round++)
            {
                foreach (var id in bare)
                {
                    await PublishAsync(Event(id, withEventId: false), id);
                    sent++;
                }
            }

            // Two malformed events: never retried, straight to the error queue with the reason.
            await PublishAsync("""{"dataset":"Not A Name","eventId":"bad-1","row":{"a":1}}""", null);
            await PublishAsync("""{"dataset":"events","eventId":"bad-2","row":{"a":"x\u0000y"}}""", null);
            sent += 2;

            await system.EventuallyAsync(async () => await QueueIdleAsync(system, "ingest-row-events") ? "idle" : null, TimeSpan.FromSeconds(60), "the row queue drained");
            // A sentinel published after the repeats were consumed is cut after every row pending before it.
            await PublishAsync(Event("sentinel", withEventId: true), null);
            sent++;
            var rows = await system.EventuallyAsync(async () => await BatchedRowsAsync(ingest) is var r && r.Contains("sentinel") ? r : null, TimeSpan.FromSeconds(60), "the sentinel row batched");

            var distinct = rows.Distinct().Count();
            var expected = ids.Count + bare.Count + 1;
            var report = new FaultReport("row events repeated across a batch cut (30 eventIds, 5 non-GUID message ids x3) + 2 malformed", sent, sent, distinct, rows.Count - distinct, expected - distinct);
            report.Record();
            Assert.True(report.Duplicated == 0 && report.Lost == 0, report.ToString());

            var errors = await system.EventuallyAsync(async () =>
            {
                var view = await ingest.GetFromJsonAsync<JsonElement>("v1/operations/error-queues");
                var queue = view.GetProperty("errorQueues").EnumerateArray().FirstOrDefault(q => q.GetProperty("queue").GetString() == "ingest-row-events_error");
                return queue.ValueKind == JsonValueKind.Object && queue.GetProperty("messages").GetInt64() == 2 ? (JsonElement?)queue : null;
            }, TimeSpan.FromSeconds(60), "two messages in ingest-row-events_error");
            var reasons = errors!.Value.GetProperty("samples").EnumerateArray().Select(s => s.GetProperty("reason").GetString()).ToList();
            Assert.Contains(reasons, r => r!.Contains("dataset name 'Not A Name' is invalid", StringComparison.Ordinal));
            Assert.Contains(reasons, r => r!.Contains("NUL", StringComparison.Ordinal));
            // No in-process retry and no delayed redelivery was spent on them.
            Assert.All(errors.Value.GetProperty("samples").EnumerateArray(), s =>
            {
                // MassTransit writes MT-Fault-RetryCount only when it retried.
                Assert.True(!s.TryGetProperty("retries", out var retries) || retries.GetInt32() == 0, s.ToString());
                Assert.False(s.TryGetProperty("redeliveries", out _), s.ToString());
            });
            Assert.Equal(0, await DelayedAsync(system, "ingest-row-events"));

            // A re-drive puts them back on the work queue; they fail the same way and come back, still unretried.
            var redrive = await (await ingest.PostAsync("v1/operations/error-queues/ingest-row-events_error/redrive", null)).EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(2, redrive.GetProperty("moved").GetInt32());
            await system.EventuallyAsync(async () =>
            {
                var view = await ingest.GetFromJsonAsync<JsonElement>("v1/operations/error-queues?samples=0");
                return view.GetProperty("errorQueues").EnumerateArray().Any(q => q.GetProperty("queue").GetString() == "ingest-row-events_error" && q.GetProperty("messages").GetInt64() == 2) ? "back" : null;
            }, TimeSpan.FromSeconds(60), "the re-driven messages back in the error queue");
        }
        finally
        {
            await system.DisposeAsync();
        }
    }

    /// <summary>Every row of every batch of the 'events' dataset, by its 'eid'.</summary>
    private static async Task<List<string>> BatchedRowsAsync(HttpClient ingest)
    {
        var batches = await ingest.GetFromJsonAsync<List<JsonElement>>("v1/datasets/events/batches") ?? [];
        var rows = new List<string>();
        foreach (var batch in batches)
        {
            var csv = await ingest.GetStringAsync($"v1/batches/{batch.GetProperty("batchId").GetGuid()}/rows");
            var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var eid = Array.IndexOf(lines[0].Split(','), "eid");
            rows.AddRange(lines.Skip(1).Select(l => l.Split(',')[eid]));
        }

        return rows;
    }

    private static async Task<bool> QueueIdleAsync(CtmSystem system, string queue)
    {
        using var management = Management();
        var info = await management.GetFromJsonAsync<JsonElement>($"api/queues/{Uri.EscapeDataString(system.Infrastructure.VirtualHost)}/{queue}");
        return info.TryGetProperty("messages", out var m) && m.GetInt64() == 0;
    }

    private static async Task<long> DelayedAsync(CtmSystem system, string queue)
    {
        using var ingest = system.Client("Ingest");
        var view = await ingest.GetFromJsonAsync<JsonElement>("v1/operations/error-queues?samples=0");
        return view.GetProperty("waiting").EnumerateArray().Where(w => w.GetProperty("workQueue").GetString() == queue).Sum(w => w.GetProperty("messages").GetInt64());
    }

    internal static HttpClient Management()
    {
        var uri = TestEnvironment.RabbitMqManagement;
        var client = new HttpClient { BaseAddress = new Uri(uri.GetLeftPart(UriPartial.Authority) + "/") };
        var credentials = Uri.UnescapeDataString(uri.UserInfo is { Length: > 0 } u ? u : "guest:guest");
        client.DefaultRequestHeaders.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        return client;
    }

    internal static async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(HttpClient ingest, string dataset, string csv, string? key)
    {
        using var content = new StringContent(csv, Encoding.UTF8, "text/csv");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"v1/datasets/{dataset}/batches") { Content = content };
        if (key is not null)
        {
            request.Headers.Add("Idempotency-Key", key);
        }

        var response = await ingest.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement);
    }

    /// <summary>Counts what the Validator decided of <paramref name="accepted"/> and what Ingest stored for the dataset.</summary>
    internal static async Task<FaultReport> ReportAsync(CtmSystem system, string fault, int sent, List<Guid> accepted)
    {
        using var validator = system.Client("Validator");
        using var ingest = system.Client("Ingest");
        var decided = new List<Guid>();
        foreach (var id in accepted.Distinct())
        {
            var decision = await system.EventuallyAsync(async () =>
            {
                var response = await validator.GetAsync($"v1/batches/{id}");
                return response.StatusCode == HttpStatusCode.NotFound ? null : await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement?>();
            }, TimeSpan.FromSeconds(180), $"the decision on batch {id}");
            decided.Add(decision!.Value.GetProperty("batchId").GetGuid());
        }

        var stored = await ingest.GetFromJsonAsync<List<JsonElement>>("v1/datasets/faults/batches") ?? [];
        var report = new FaultReport(fault, sent, accepted.Count, decided.Count, stored.Count - accepted.Distinct().Count(), accepted.Distinct().Count() - decided.Count);
        report.Record();
        return report;
    }

    /// <summary>A CSV body of <paramref name="length"/> bytes produced as it is read: an upload of unknown length.</summary>
    private sealed class ChunkedCsv(long length) : Stream
    {
        private static readonly byte[] Row = "12345,abcdef\n"u8.ToArray();
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, length - _position);
            for (var i = 0; i < n; i++)
            {
                var at = _position + i;
                buffer[offset + i] = at < 4 ? "a,b\n"u8[(int)at] : Row[(int)((at - 4) % Row.Length)];
            }

            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
