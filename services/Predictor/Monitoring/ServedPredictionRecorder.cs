using System.ComponentModel.DataAnnotations;
using System.Diagnostics.Metrics;
using System.Text.Json;
using System.Threading.Channels;
using Ctm.Contracts;
using Ctm.Predictor.Inference;
using Ctm.Predictor.Models;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Ctm.Predictor.Monitoring;

/// <summary>How keyed predictions served are reported for label feedback, from the <c>ServedPredictions</c> section.</summary>
public sealed class ServedPredictionOptions
{
    public const string Section = "ServedPredictions";

    /// <summary>Report keyed predictions at all.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Predictions per <see cref="PredictionsServed"/> message: a dataset's gathered predictions go out when they reach it...</summary>
    [Range(1, 10_000)]
    public int MaxBatch { get; set; } = 500;

    /// <summary>...or when the oldest has waited this long.</summary>
    [Range(0.05, 3600)]
    public double MaxDelaySeconds { get; set; } = 2;

    /// <summary>Answered blocks waiting to be reported; when full, a block's keyed predictions are dropped and counted, never waited for.</summary>
    [Range(1, 1_000_000)]
    public int QueueCapacity { get; set; } = 4096;
}

/// <summary>
/// Keeps what was served with an example key: the request path only offers the answered block (a non-blocking write to
/// a bounded queue, nothing when the block has no keys); a background loop turns the answers into
/// <see cref="ServedPrediction"/>s and publishes them per dataset as <see cref="PredictionsServed"/>, by count and time.
/// A full queue or a refused publish drops predictions and counts them (reported in the next message); a prediction is
/// never delayed or failed by it.
/// </summary>
public sealed partial class ServedPredictionRecorder(
    ModelCatalog catalog,
    IBus bus,
    ReplicaIdentity replica,
    IOptions<ServedPredictionOptions> options,
    TimeProvider clock,
    ILogger<ServedPredictionRecorder> logger) : BackgroundService
{
    private static readonly Meter Meter = new("Ctm.Predictor");
    private static readonly Counter<long> Reported = Meter.CreateCounter<long>("ctm.predictor.served_predictions.reported");
    private static readonly Counter<long> DroppedCounter = Meter.CreateCounter<long>("ctm.predictor.served_predictions.dropped");

    private readonly Channel<Entry> _queue = Channel.CreateBounded<Entry>(
        new BoundedChannelOptions(options.Value.QueueCapacity) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    private long _dropped;

    /// <summary>Predictions dropped since start (queue full, or publish refused).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>
    /// Offers an answered block. <paramref name="role"/> is given for shadow copies; otherwise the model's place in the
    /// traffic split decides (the canary, else serving).
    /// </summary>
    public void Offer(LoadedModel model, RowBlock block, Prediction[] answers, ServingRole? role = null)
    {
        if (block.Keys is not { } keys || !options.Value.Enabled)
        {
            return;
        }

        var served = role ?? (ReferenceEquals(catalog.Find(model.Dataset)?.Canary, model) ? ServingRole.Canary : ServingRole.Primary);
        if (!_queue.Writer.TryWrite(new Entry(model.Dataset, model.Version, served, keys, answers, clock.GetUtcNow())))
        {
            Interlocked.Add(ref _dropped, answers.Length);
            DroppedCounter.Add(answers.Length, new KeyValuePair<string, object?>("dataset", model.Dataset));
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var delay = TimeSpan.FromSeconds(settings.MaxDelaySeconds);
        var gathered = new Dictionary<string, Gathered>(StringComparer.Ordinal);
        var reader = _queue.Reader;
        while (!stoppingToken.IsCancellationRequested)
        {
            var now = clock.GetUtcNow();
            var due = gathered.Count == 0 ? (TimeSpan?)null : gathered.Values.Min(g => g.Since) + delay - now;
            using (var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken))
            {
                if (due is { } d)
                {
                    wait.CancelAfter(d > TimeSpan.Zero ? d : TimeSpan.Zero);
                }

                try
                {
                    await reader.WaitToReadAsync(wait.Token);
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                {
                    // the oldest gathered prediction is due
                }
            }

            while (reader.TryRead(out var entry))
            {
                if (!gathered.TryGetValue(entry.Dataset, out var g))
                {
                    gathered[entry.Dataset] = g = new Gathered(entry.At);
                }

                Add(g.Predictions, entry);
                if (g.Predictions.Count >= settings.MaxBatch)
                {
                    await PublishAsync(entry.Dataset, g.Predictions, stoppingToken);
                    gathered.Remove(entry.Dataset);
                }
            }

            now = clock.GetUtcNow();
            foreach (var (dataset, g) in gathered.Where(x => x.Value.Since + delay <= now).ToList())
            {
                await PublishAsync(dataset, g.Predictions, stoppingToken);
                gathered.Remove(dataset);
            }
        }
    }

    private static void Add(List<ServedPrediction> into, Entry e)
    {
        var role = e.Role switch { ServingRole.Canary => "canary", ServingRole.Shadow => "shadow", _ => "serving" };
        for (var r = 0; r < e.Answers.Length && r < e.Keys.Length; r++)
        {
            if (e.Keys[r] is not { } raw)
            {
                continue;
            }

            var (label, probabilities, value) = Describe(e.Answers[r]);
            if (label is null && value is null)
            {
                continue;
            }

            into.Add(new ServedPrediction
            {
                Key = KeyText(raw), Version = e.Version, Role = role, Label = label, Probabilities = probabilities, Value = value, ServedAt = e.At,
            });
        }
    }

    /// <summary>A JSON string key as its text (what a label event or a batch's key column carries), any other key as its JSON.</summary>
    internal static string KeyText(string rawJson)
    {
        if (rawJson.Length > 0 && rawJson[0] == '"')
        {
            using var doc = JsonDocument.Parse(rawJson);
            return doc.RootElement.GetString() ?? "";
        }

        return rawJson;
    }

    private static (string? Label, Dictionary<string, double>? Probabilities, double? Value) Describe(Prediction p)
    {
        var s = p.Signature;
        if (s.IsClassifier)
        {
            var probabilities = (float[])p.Values[s.ProbabilitiesIndex];
            var classes = s.EncodedClasses!;
            var byClass = new Dictionary<string, double>(StringComparer.Ordinal);
            for (var c = 0; c < probabilities.Length && c < classes.Length; c++)
            {
                byClass[classes[c].Value] = probabilities[c];
            }

            return (p.Label, byClass, null);
        }

        return p.FirstFloats is { Length: 1 } f ? (null, null, f[0]) : (null, null, null);
    }

    private async Task PublishAsync(string dataset, List<ServedPrediction> predictions, CancellationToken ct)
    {
        var dropped = Interlocked.Exchange(ref _dropped, 0);
        try
        {
            await bus.Publish(new PredictionsServed
            {
                Dataset = dataset, Replica = replica.Name, Predictions = predictions, Dropped = dropped == 0 ? null : dropped, CorrelationId = NewId.NextGuid(),
            }, ct);
            Reported.Add(predictions.Count, new KeyValuePair<string, object?>("dataset", dataset));
            LogReported(dataset, predictions.Count);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Interlocked.Add(ref _dropped, dropped + predictions.Count);
            DroppedCounter.Add(predictions.Count, new KeyValuePair<string, object?>("dataset", dataset));
            LogFailed(e, dataset, predictions.Count);
        }
    }

    private sealed record Entry(string Dataset, int Version, ServingRole Role, string?[] Keys, Prediction[] Answers, DateTimeOffset At);

    private sealed class Gathered(DateTimeOffset since)
    {
        public DateTimeOffset Since { get; } = since;
        public List<ServedPrediction> Predictions { get; } = [];
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Reported {Count} keyed predictions of {Dataset}")]
    private partial void LogReported(string dataset, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not report {Count} keyed predictions of {Dataset}; they are counted as dropped")]
    private partial void LogFailed(Exception error, string dataset, int count);
}
