using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Ctm.Testing;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Ctm.Trainer.Tests;

/// <summary>The services for the live-quality test: a norm after four scored batches (the default is eight), short runs.</summary>
public sealed class QualitySystem : CtmSystem, IAsyncLifetime
{
    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Training__Epochs"] = "5",
        ["Quality__MinHistory"] = "4",
        ["Ingest__RowEvents__MaxDelaySeconds"] = "1",
    };
}

/// <summary>
/// Live quality through the five running services: labeled batches are scored by the serving version before any
/// training on them, the series and its chart are served, and a change of P(y|x) at a known batch (inputs unchanged)
/// raises <c>ModelQualityDegraded</c> on the bus and, with the policy's flag, a retrain.
/// </summary>
public sealed class QualitySystemTests(QualitySystem system) : IClassFixture<QualitySystem>
{
    private const string Dataset = "live-quality";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(180);

    /// <summary>x uniform on [-3, 3), a shade, and y = 1 when x &gt; 0 (x &lt; 0 when <paramref name="flipped"/>), 5 % label noise: the inputs and the label rate are the same either way.</summary>
    private static string Csv(int rows, int seed, bool flipped)
    {
        var rng = new Random(seed);
        var csv = new StringBuilder("x,shade,y\n");
        string[] shades = ["light", "dark", "mid"];
        for (var i = 0; i < rows; i++)
        {
            var x = (rng.NextDouble() * 6) - 3;
            var positive = (x > 0) ^ flipped ^ (rng.NextDouble() < 0.05);
            csv.Append(CultureInfo.InvariantCulture, $"{x:0.0000},{shades[rng.Next(3)]},{(positive ? 1 : 0)}\n");
        }

        return csv.ToString();
    }

    [Fact]
    public async Task LabeledBatches_AreScoredByTheServingVersion_AndAChangeOfPYGivenX_RaisesAnAlertAndARetrain()
    {
        using var trainer = system.Client("Trainer");
        using var validator = system.Client("Validator");
        await using var alerts = await EventListener.StartAsync(system, "Ctm.Contracts:ModelQualityDegraded");
        (await validator.PutAsJsonAsync($"v1/datasets/{Dataset}/config", new { labelColumn = "y", task = "binary" })).EnsureSuccessStatusCode();
        (await trainer.PutAsJsonAsync($"v1/datasets/{Dataset}/policy", new { trigger = "manual", retrainOnQualityAlert = true })).EnsureSuccessStatusCode();

        // v1 from the first batch, on request (the manual trigger keeps the later batches from training).
        var first = await UploadAsync(Csv(400, 1, flipped: false));
        await system.EventuallyAsync(async () => (await trainer.GetStringAsync($"v1/datasets/{Dataset}/batches")).Contains(first.ToString(), StringComparison.Ordinal) ? "recorded" : null, Patience, "the first batch recorded");
        Assert.Equal(HttpStatusCode.Accepted, (await trainer.PostAsJsonAsync($"v1/datasets/{Dataset}/retrain", new { requestedBy = "tests" })).StatusCode);
        var run = (await WaitForRunsAsync(r => r.Count >= 1))[0].GetProperty("id").GetGuid();
        await system.EventuallyAsync(async () =>
        {
            var response = await trainer.GetAsync($"v1/datasets/{Dataset}/serving");
            return response.IsSuccessStatusCode && (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetGuid() == run ? "serving" : null;
        }, Patience, "v1 serving");

        for (var b = 0; b < 5; b++)
        {
            await UploadAsync(Csv(400, 10 + b, flipped: false));
            await WaitForPointsAsync(trainer, b + 1);
        }

        var before = await SeriesAsync(trainer);
        Assert.Empty(before.GetProperty("alerts").EnumerateArray());
        Assert.Empty(alerts.For(Dataset));

        var changed = await UploadAsync(Csv(400, 99, flipped: true));
        var alert = await system.EventuallyAsync(() => Task.FromResult(alerts.For(Dataset).FirstOrDefault() is { ValueKind: JsonValueKind.Object } a ? (JsonElement?)a : null), Patience, "ModelQualityDegraded on the bus");

        Assert.Equal(changed, alert!.Value.GetProperty("batchId").GetGuid());
        Assert.Equal("overall", alert.Value.GetProperty("scope").GetString());
        Assert.Equal(1, alert.Value.GetProperty("version").GetInt32());
        // The whole is judged on its ranking (lower is worse) and on log loss beyond the label mix's entropy (higher is worse).
        var metric = alert.Value.GetProperty("metric").GetString();
        Assert.Contains(metric, new[] { "roc_auc", "log_loss_excess" });
        var (value, limit) = (alert.Value.GetProperty("value").GetDouble(), alert.Value.GetProperty("limit").GetDouble());
        Assert.True(metric == "roc_auc" ? value < limit : value > limit, $"{metric} {value} against the limit {limit}");
        Assert.True(alert.Value.GetProperty("retrainRequested").GetBoolean());
        Assert.Contains("live-quality v1 degraded overall: ", alert.Value.GetProperty("sentence").GetString(), StringComparison.Ordinal);

        // The series: six batches, each scored once by v1, with calibration and slices (the shade's values, x's buckets, each class).
        var series = await SeriesAsync(trainer);
        var points = series.GetProperty("points").EnumerateArray().ToList();
        Assert.Equal(6, points.Count);
        Assert.All(points, p => Assert.Equal(1, p.GetProperty("version").GetInt32()));
        Assert.All(points, p => Assert.True(p.GetProperty("overall").GetProperty("ece").GetDouble() >= 0));
        var features = points[0].GetProperty("slices").EnumerateArray().Select(s => s.GetProperty("feature").GetString()).ToHashSet();
        Assert.Superset(new HashSet<string?> { "shade", "x", "@class" }, features);
        Assert.Equal(changed, points[^1].GetProperty("batchId").GetGuid());
        var stored = Assert.Single(series.GetProperty("alerts").EnumerateArray());
        Assert.Equal("quality-overall", stored.GetProperty("kind").GetString());

        var onlyShade = await trainer.GetFromJsonAsync<JsonElement>($"v1/datasets/{Dataset}/quality?version=1&feature=shade&value=dark");
        Assert.All(onlyShade.GetProperty("points").EnumerateArray(), p => Assert.Equal("dark", Assert.Single(p.GetProperty("slices").EnumerateArray()).GetProperty("value").GetString()));
        Assert.Empty((await trainer.GetFromJsonAsync<JsonElement>($"v1/datasets/{Dataset}/quality?version=2")).GetProperty("points").EnumerateArray());

        var svg = await trainer.GetStringAsync($"v1/datasets/{Dataset}/quality.svg?metric=accuracy");
        Assert.StartsWith("<svg", svg, StringComparison.Ordinal);
        Assert.Contains(">v1<", svg, StringComparison.Ordinal);
        Assert.Contains("(alarm)", svg, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await trainer.GetAsync($"v1/datasets/{Dataset}/quality.svg?metric=speed")).StatusCode);

        // The policy's flag turned the alarm into a retrain that the manual trigger alone would never have run.
        var job = await system.EventuallyAsync(async () =>
            (await trainer.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{Dataset}/jobs"))!.FirstOrDefault(j =>
                j.GetProperty("reason").GetString() == "requested by quality alert" && j.GetProperty("status").GetString() == "done") is { ValueKind: JsonValueKind.Object } j ? (JsonElement?)j : null,
            Patience, "the quality alert's retrain done");
        var retrainRun = job!.Value.GetProperty("runId").GetGuid();
        Assert.Contains(await WaitForRunsAsync(r => r.Count >= 2), r => r.GetProperty("id").GetGuid() == retrainRun);
    }

    private async Task<Guid> UploadAsync(string csv)
    {
        using var ingest = system.Client("Ingest");
        using var content = new StringContent(csv, Encoding.UTF8, "text/csv");
        var response = await ingest.PostAsync($"v1/datasets/{Dataset}/batches", content);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("batchId").GetGuid();
    }

    private static async Task<JsonElement> SeriesAsync(HttpClient trainer) => await trainer.GetFromJsonAsync<JsonElement>($"v1/datasets/{Dataset}/quality");

    private async Task WaitForPointsAsync(HttpClient trainer, int count) =>
        await system.EventuallyAsync(async () => (await SeriesAsync(trainer)).GetProperty("points").GetArrayLength() >= count ? "scored" : null, Patience, $"{count} scored batches");

    private async Task<List<JsonElement>> WaitForRunsAsync(Func<List<JsonElement>, bool> done)
    {
        using var trainer = system.Client("Trainer");
        return await system.EventuallyAsync(async () =>
            await trainer.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{Dataset}/runs") is { } l && done(l) ? l : null, Patience, $"runs of {Dataset}");
    }

    /// <summary>Listens to one message type as any AMQP client could (a server-named queue bound to its fanout exchange).</summary>
    private sealed class EventListener(IConnection connection, IChannel channel) : IAsyncDisposable
    {
        private readonly ConcurrentQueue<JsonElement> _messages = new();

        public IReadOnlyList<JsonElement> For(string dataset) => [.. _messages.Where(m => m.GetProperty("dataset").GetString() == dataset)];

        public static async Task<EventListener> StartAsync(CtmSystem system, string exchange)
        {
            var factory = new ConnectionFactory { Uri = TestEnvironment.RabbitMq, VirtualHost = system.Infrastructure.VirtualHost };
            var connection = await factory.CreateConnectionAsync();
            var channel = await connection.CreateChannelAsync();
            var listener = new EventListener(connection, channel);
            await channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true, autoDelete: false);
            var queue = await channel.QueueDeclareAsync(string.Empty, durable: false, exclusive: true, autoDelete: true);
            await channel.QueueBindAsync(queue.QueueName, exchange, string.Empty);
            var consumer = new AsyncEventingBasicConsumer(channel);
            consumer.ReceivedAsync += (_, delivery) =>
            {
                using var envelope = JsonDocument.Parse(delivery.Body);
                listener._messages.Enqueue(envelope.RootElement.GetProperty("message").Clone());
                return Task.CompletedTask;
            };
            await channel.BasicConsumeAsync(queue.QueueName, autoAck: true, consumer);
            return listener;
        }

        public async ValueTask DisposeAsync()
        {
            await channel.CloseAsync();
            await connection.CloseAsync();
            channel.Dispose();
            connection.Dispose();
        }
    }
}
