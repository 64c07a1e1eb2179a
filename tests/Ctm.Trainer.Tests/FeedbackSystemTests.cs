using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Ctm.Contracts;
using Ctm.Testing;
using RabbitMQ.Client;

namespace Ctm.Trainer.Tests;

/// <summary>
/// The Trainer alone (labels and served predictions come from the bus): every joined prediction is scored at once, and
/// a dataset keeps at most 150 predictions and 150 labels, so what the cap lets go is counted without waiting for time.
/// </summary>
public sealed class FeedbackSystem : CtmSystem, IAsyncLifetime
{
    protected override IReadOnlyList<string> StartedServices => ["Trainer"];

    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Quality__Feedback__MinRows"] = "1",
        ["Quality__Feedback__PollSeconds"] = "0.5",
        ["Quality__Feedback__MaxPredictionsPerDataset"] = "150",
    };
}

/// <summary>
/// Label feedback through the running Trainer, the real broker and database: keyed predictions a Predictor served
/// (serving, canary and shadow versions) are joined to labels published as plain JSON by key, in either order and
/// repeated, each key counted once; what never joins is counted; and the versions' served quality stands side by side.
/// </summary>
public sealed class FeedbackSystemTests(FeedbackSystem system) : IClassFixture<FeedbackSystem>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);
    private static readonly DateTimeOffset Served = DateTimeOffset.UtcNow;

    [Fact]
    public async Task LabelsByKey_OutOfOrderAndRepeated_AreEachCountedOnce_AndServingCanaryAndShadowAreMeasuredSideBySide()
    {
        const string dataset = "feedback-join";
        using var trainer = system.Client("Trainer");
        var bus = await system.BusAsync();
        // Sixty keys: v1 serves k0-k39, the canary v2 serves k40-k59, the shadow v3 answers a copy of all sixty.
        // The truth of key i is "yes" when i is even; v1 and v2 are right with p = 0.9, the shadow is wrong with p = 0.8.
        var keys = Enumerable.Range(0, 60).Select(i => $"k{i}").ToList();
        string Truth(int i) => i % 2 == 0 ? "yes" : "no";

        // Half of the labels come before any prediction: they wait.
        await using var labels = await LabelPublisher.StartAsync(system);
        for (var i = 0; i < 25; i++)
        {
            await labels.PublishAsync(dataset, keys[i], Truth(i));
        }

        var early = await WaitForAsync(trainer, dataset, f => f.Counters.LabelsReceived == 25, "25 labels waiting");
        Assert.Equal(25, early.Stored.LabelsWaiting);
        Assert.Equal(0, early.Counters.LabelsJoined);

        var live = new PredictionsServed
        {
            Dataset = dataset, Replica = "test-replica", CorrelationId = Guid.NewGuid(),
            Predictions = [.. Enumerable.Range(0, 40).SelectMany(i => new[] { Prediction(keys[i], 1, "serving", Truth(i), 0.9), Prediction(keys[i], 3, "shadow", Other(Truth(i)), 0.8) })],
        };
        var canary = new PredictionsServed
        {
            Dataset = dataset, Replica = "test-replica", CorrelationId = Guid.NewGuid(), Dropped = 3,
            Predictions = [.. Enumerable.Range(40, 20).SelectMany(i => new[] { Prediction(keys[i], 2, "canary", Truth(i), 0.9), Prediction(keys[i], 3, "shadow", Other(Truth(i)), 0.8) })],
        };
        await bus.Publish(live);
        await bus.Publish(canary);
        await bus.Publish(live); // redelivered, or reported twice: stored once
        await WaitForAsync(trainer, dataset, f => f.Counters.PredictionsReceived + f.Counters.PredictionsDuplicate == 200, "three reports stored");

        // The other labels come after their predictions; k50-k59 never get one; five labels name keys never served.
        for (var i = 25; i < 50; i++)
        {
            await labels.PublishAsync(dataset, keys[i], Truth(i));
        }

        for (var g = 0; g < 5; g++)
        {
            await labels.PublishAsync(dataset, $"ghost-{g}", "yes");
        }

        await WaitForAsync(trainer, dataset, f => f.Counters.LabelsReceived == 55, "55 labels stored");
        // Every label again, the opposite way: a key counts once, the first label stands.
        for (var i = 0; i < 50; i++)
        {
            await labels.PublishAsync(dataset, keys[i], Other(Truth(i)));
        }

        var settled = await WaitForAsync(trainer, dataset, f => f.Counters.LabelsDuplicate == 50 && f.Stored.PredictionsAwaitingScore == 0, "duplicates counted, joined predictions scored");
        var c = settled.Counters;
        Assert.Equal(120, c.PredictionsReceived);
        Assert.Equal(80, c.PredictionsDuplicate);
        Assert.Equal(3, c.PredictionsDropped);
        Assert.Equal(55, c.LabelsReceived);
        Assert.Equal(50, c.LabelsDuplicate);
        Assert.Equal(50, c.LabelsJoined);
        Assert.Equal(100, c.PredictionsJoined); // v1 40, v2 10, v3 50
        Assert.Equal(120, settled.Stored.Predictions);
        Assert.Equal(20, settled.Stored.PredictionsUnlabeled); // k50-k59 of the canary and of the shadow
        Assert.Equal(5, settled.Stored.LabelsWaiting);

        // Served points: every joined prediction once, per version and role, beside each other.
        var series = await trainer.GetFromJsonAsync<JsonElement>($"v1/datasets/{dataset}/quality?source=served&feature=none");
        var points = series.GetProperty("points").EnumerateArray().ToList();
        Assert.All(points, p => Assert.Equal("served", p.GetProperty("source").GetString()));
        int RowsOf(int version, string role) => points.Where(p => p.GetProperty("version").GetInt32() == version && p.GetProperty("role").GetString() == role).Sum(p => p.GetProperty("rows").GetInt32());
        Assert.Equal(40, RowsOf(1, "serving"));
        Assert.Equal(10, RowsOf(2, "canary"));
        Assert.Equal(50, RowsOf(3, "shadow"));

        var versions = await trainer.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/quality/versions");
        var live1 = Assert.Single(Live(versions!, 1));
        var canary2 = Assert.Single(Live(versions!, 2));
        var shadow3 = Assert.Single(Live(versions!, 3));
        Assert.Equal(("served", "serving", 40L), (live1.GetProperty("source").GetString(), live1.GetProperty("role").GetString(), live1.GetProperty("rows").GetInt64()));
        Assert.Equal(("canary", 10L), (canary2.GetProperty("role").GetString(), canary2.GetProperty("rows").GetInt64()));
        Assert.Equal(("shadow", 50L), (shadow3.GetProperty("role").GetString(), shadow3.GetProperty("rows").GetInt64()));
        Assert.Equal(1.0, live1.GetProperty("accuracy").GetDouble());
        Assert.Equal(1.0, canary2.GetProperty("accuracy").GetDouble());
        Assert.Equal(0.0, shadow3.GetProperty("accuracy").GetDouble());
        Assert.Equal(-Math.Log(0.9), live1.GetProperty("value").GetDouble(), 4);
        Assert.Equal(-Math.Log(0.2), shadow3.GetProperty("value").GetDouble(), 4);
        Assert.Equal("log_loss", shadow3.GetProperty("metric").GetString());
    }

    [Fact]
    public async Task PredictionsAndLabelsThatNeverJoin_AreCountedWhenTheCapLetsThemGo()
    {
        const string dataset = "feedback-cap";
        using var trainer = system.Client("Trainer");
        var bus = await system.BusAsync();
        await using var labels = await LabelPublisher.StartAsync(system);
        await bus.Publish(new PredictionsServed
        {
            Dataset = dataset, Replica = "test-replica", CorrelationId = Guid.NewGuid(),
            Predictions = [.. Enumerable.Range(0, 200).Select(i => Prediction($"served-{i}", 1, "serving", "yes", 0.7))],
        });
        for (var i = 0; i < 160; i++)
        {
            await labels.PublishAsync(dataset, $"unserved-{i}", "no");
        }

        var f = await WaitForAsync(trainer, dataset, f => f.Counters.LabelsReceived == 160 && f.Stored.Predictions <= 150 && f.Stored.LabelsWaiting <= 150, "the cap applied");
        Assert.Equal(200, f.Counters.PredictionsReceived);
        Assert.Equal(50, f.Counters.PredictionsEvictedUnlabeled);
        Assert.Equal(10, f.Counters.LabelsWithoutPrediction);
        Assert.Equal(0, f.Counters.PredictionsJoined);
        Assert.Equal(0, f.Counters.LabelsJoined);
        Assert.Equal(150, f.Stored.Predictions);
        Assert.Equal(150, f.Stored.LabelsWaiting);
    }

    [Fact]
    public async Task LabeledBatch_WithTheDatasetsKeyColumn_GivesLabelsByKey_ReadOnceEvenWhenRedelivered()
    {
        const string dataset = "feedback-batch";
        using var trainer = system.Client("Trainer");
        var bus = await system.BusAsync();
        (await trainer.PutAsJsonAsync($"v1/datasets/{dataset}/policy", new { trigger = "manual" })).EnsureSuccessStatusCode();

        var refused = await trainer.PutAsJsonAsync($"v1/datasets/{dataset}/quality/settings", new { keyColumn = "order_id", slices = new object[] { new { name = "big", feature = "x", min = 5, max = 1 } } });
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("'big' has min 5 not below max 1", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        (await trainer.PutAsJsonAsync($"v1/datasets/{dataset}/quality/settings", new { keyColumn = "order_id", slices = new object[] { new { name = "big", feature = "x", min = 1 } } })).EnsureSuccessStatusCode();
        var settings = await trainer.GetFromJsonAsync<JsonElement>($"v1/datasets/{dataset}/quality/settings");
        Assert.Equal("order_id", settings.GetProperty("keyColumn").GetString());
        Assert.Equal("big", Assert.Single(settings.GetProperty("slices").EnumerateArray()).GetProperty("name").GetString());

        // Twenty keys served; the batch labels thirty, ten of which were never served.
        await bus.Publish(new PredictionsServed
        {
            Dataset = dataset, Replica = "test-replica", CorrelationId = Guid.NewGuid(),
            Predictions = [.. Enumerable.Range(0, 20).Select(i => Prediction($"o{i}", 1, "serving", "yes", 0.6))],
        });
        await WaitForAsync(trainer, dataset, f => f.Counters.PredictionsReceived == 20, "20 predictions stored");
        var csv = new StringBuilder("x,order_id,label\n");
        for (var i = 0; i < 30; i++)
        {
            csv.Append(System.Globalization.CultureInfo.InvariantCulture, $"{i % 7},o{i},{(i % 2 == 0 ? "yes" : "no")}\n");
        }

        using var host = new ArtifactHost();
        var (location, sha256) = host.Add(Encoding.UTF8.GetBytes(csv.ToString()));
        var accepted = new BatchAccepted
        {
            BatchId = Guid.NewGuid(), Dataset = dataset, CorrelationId = Guid.NewGuid(), RowCount = 30, Sha256 = sha256, Location = location,
            SchemaVersion = 1, Features = [new ColumnSpec { Name = "x", Kind = ColumnKind.Numeric }, new ColumnSpec { Name = "order_id", Kind = ColumnKind.Categorical }],
            LabelColumn = "label", Task = TaskKind.Binary, AcceptedAt = DateTimeOffset.UtcNow,
        };
        await bus.Publish(accepted);
        var joined = await WaitForAsync(trainer, dataset, f => f.Counters.LabelsReceived == 30 && f.Stored.PredictionsAwaitingScore == 0, "the batch's 30 labels read");
        Assert.Equal(20, joined.Counters.LabelsJoined);
        Assert.Equal(20, joined.Counters.PredictionsJoined);
        Assert.Equal(10, joined.Stored.LabelsWaiting);
        Assert.Equal(1, host.Requests);

        await bus.Publish(accepted); // redelivered: the batch is not read again
        await bus.Publish(new PredictionsServed { Dataset = dataset, Replica = "test-replica", CorrelationId = Guid.NewGuid(), Predictions = [Prediction("marker", 1, "serving", "yes", 0.6)] });
        var after = await WaitForAsync(trainer, dataset, f => f.Counters.PredictionsReceived == 21, "a later report stored");
        Assert.Equal((30L, 0L, 20L), (after.Counters.LabelsReceived, after.Counters.LabelsDuplicate, after.Counters.LabelsJoined));
        Assert.Equal(1, host.Requests);
    }

    private static IEnumerable<JsonElement> Live(List<JsonElement> versions, int version) =>
        versions.Where(v => v.GetProperty("version").GetInt32() == version).SelectMany(v => v.GetProperty("live").EnumerateArray());

    private static string Other(string label) => label == "yes" ? "no" : "yes";

    private static ServedPrediction Prediction(string key, int version, string role, string label, double p) => new()
    {
        Key = key, Version = version, Role = role, Label = label, ServedAt = Served,
        Probabilities = new Dictionary<string, double> { [label] = p, [Other(label)] = 1 - p },
    };

    private async Task<Feedback> WaitForAsync(HttpClient trainer, string dataset, Func<Feedback, bool> done, string what) =>
        await system.EventuallyAsync(async () => await trainer.GetFromJsonAsync<Feedback>($"v1/datasets/{dataset}/feedback") is { } f && done(f) ? f : null, Patience, what);

    private sealed record Feedback(string Dataset, Counters Counters, Stored Stored);

    private sealed record Counters(
        long PredictionsReceived, long PredictionsDuplicate, long PredictionsDropped, long PredictionsJoined, long PredictionsExpiredUnlabeled,
        long PredictionsEvictedUnlabeled, long LabelsReceived, long LabelsDuplicate, long LabelsJoined, long LabelsWithoutPrediction);

    private sealed record Stored(long Predictions, long PredictionsUnlabeled, long PredictionsAwaitingScore, long LabelsWaiting);

    /// <summary>Publishes label events as any AMQP client would: plain JSON on the label exchange, no MassTransit envelope.</summary>
    private sealed class LabelPublisher(IConnection connection, IChannel channel) : IAsyncDisposable
    {
        public static async Task<LabelPublisher> StartAsync(CtmSystem system)
        {
            var factory = new ConnectionFactory { Uri = TestEnvironment.RabbitMq, VirtualHost = system.Infrastructure.VirtualHost };
            var connection = await factory.CreateConnectionAsync();
            var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
            return new LabelPublisher(connection, channel);
        }

        public async Task PublishAsync(string dataset, string key, string label)
        {
            var body = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { dataset, key, label }));
            await channel.BasicPublishAsync("ctm.labels", string.Empty, mandatory: false, new BasicProperties { ContentType = "application/json", Persistent = true }, body);
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
