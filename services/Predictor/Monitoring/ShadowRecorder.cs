using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Ctm.Predictor.Extensions;
using Ctm.Predictor.Inference;
using Ctm.Predictor.Models;
using Microsoft.Extensions.Options;

namespace Ctm.Predictor.Monitoring;

/// <summary>How a shadow version's answers compare with the live ones on the same inputs.</summary>
public sealed class ShadowComparison(string dataset, int liveVersion, int shadowVersion)
{
    private readonly Lock _lock = new();

    public string Dataset { get; } = dataset;
    public int LiveVersion { get; } = liveVersion;
    public int ShadowVersion { get; } = shadowVersion;
    public long Rows { get; private set; }
    public long LabelAgreements { get; private set; }
    public double MeanAbsoluteDifference => Rows == 0 ? 0 : SumAbsoluteDifference / Rows;
    public double MaxAbsoluteDifference { get; private set; }
    public DateTimeOffset? LastAt { get; private set; }
    private double SumAbsoluteDifference { get; set; }

    public double LabelAgreement => Rows == 0 ? 0 : (double)LabelAgreements / Rows;

    public void Add(Prediction live, Prediction shadow)
    {
        var difference = 0.0;
        if (live.FirstFloats is { } a && shadow.FirstFloats is { } b)
        {
            for (var i = 0; i < Math.Min(a.Length, b.Length); i++)
            {
                difference = Math.Max(difference, Math.Abs(a[i] - b[i]));
            }
        }

        lock (_lock)
        {
            Rows++;
            LabelAgreements += live.Label is not null && live.Label == shadow.Label ? 1 : 0;
            SumAbsoluteDifference += difference;
            MaxAbsoluteDifference = Math.Max(MaxAbsoluteDifference, difference);
            LastAt = DateTimeOffset.UtcNow;
        }
    }
}

/// <summary>
/// Sends a copy of live traffic to the shadow version off the request path (a bounded queue: when full, the copy is
/// dropped and counted, the live answer is never delayed) and records how its answers compare; they are never returned.
/// </summary>
public sealed partial class ShadowRecorder(ModelCatalog catalog, IOptions<ServingOptions> options, ServedPredictionRecorder served, ILogger<ShadowRecorder> logger) : BackgroundService
{
    private static readonly Meter Meter = new("Ctm.Predictor");
    private static readonly Counter<long> ShadowRows = Meter.CreateCounter<long>("ctm.predictor.shadow.rows");
    private static readonly Counter<long> ShadowDisagreements = Meter.CreateCounter<long>("ctm.predictor.shadow.label_disagreements");

    private readonly Channel<(LoadedModel Live, RowBlock Block, Prediction[] Answers)> _queue =
        Channel.CreateBounded<(LoadedModel, RowBlock, Prediction[])>(new BoundedChannelOptions(options.Value.ShadowQueueCapacity) { FullMode = BoundedChannelFullMode.Wait });

    private readonly ConcurrentDictionary<(string, int, int), ShadowComparison> _comparisons = new();
    private long _dropped;
    private long _droppedRows;
    private long _incompatible;

    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Rows of the blocks dropped (queue full, shadow not loaded, overloaded or failing): the shadow never answered them.</summary>
    public long DroppedRows => Interlocked.Read(ref _droppedRows);
    public long Incompatible => Interlocked.Read(ref _incompatible);

    public IEnumerable<ShadowComparison> For(string dataset) => _comparisons.Values.Where(c => c.Dataset == dataset).OrderBy(c => c.LiveVersion).ThenBy(c => c.ShadowVersion);

    /// <summary>Queues a copy of a live request if <paramref name="live"/>'s dataset has a shadow.</summary>
    public void Offer(LoadedModel live, RowBlock block, Prediction[] answers)
    {
        if (catalog.Find(live.Dataset)?.Shadow is null)
        {
            return;
        }

        if (!_queue.Writer.TryWrite((live, block, answers)))
        {
            Drop(block);
        }
    }

    private void Drop(RowBlock block)
    {
        Interlocked.Increment(ref _dropped);
        Interlocked.Add(ref _droppedRows, block.Count);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var (live, block, answers) in _queue.Reader.ReadAllAsync(stoppingToken))
        {
            using var lease = catalog.AcquireShadow(live.Dataset);
            if (lease is null)
            {
                Drop(block);
                continue;
            }

            var shadow = lease.Model;
            try
            {
                if (!SameInputs(live.Signature, shadow.Signature))
                {
                    Interlocked.Increment(ref _incompatible);
                    continue;
                }

                var shadowAnswers = await shadow.PredictAsync(block);
                served.Offer(shadow, block, shadowAnswers, ServingRole.Shadow);
                var comparison = _comparisons.GetOrAdd((live.Dataset, live.Version, shadow.Version), k => new ShadowComparison(k.Item1, k.Item2, k.Item3));
                var disagreements = 0;
                for (var r = 0; r < answers.Length; r++)
                {
                    comparison.Add(answers[r], shadowAnswers[r]);
                    disagreements += answers[r].Label != shadowAnswers[r].Label ? 1 : 0;
                }

                var tags = new KeyValuePair<string, object?>[] { new("dataset", live.Dataset), new("shadow_version", shadow.Version) };
                ShadowRows.Add(answers.Length, tags);
                ShadowDisagreements.Add(disagreements, tags);
                LogCompared(live.Dataset, live.Version, shadow.Version, answers.Length, disagreements);
            }
            catch (Exception e) when (e is ServingOverloadedException or ServingFaultException or PredictionInputException)
            {
                Drop(block);
            }
        }
    }

    private static bool SameInputs(ModelSignature? a, ModelSignature? b) =>
        a is not null && b is not null
        && a.Inputs.Count == b.Inputs.Count
        && a.Inputs.Zip(b.Inputs).All(p => p.First.Name == p.Second.Name && p.First.Type == p.Second.Type && p.First.Width == p.Second.Width
            && Enumerable.Range(0, p.First.Width).All(c => p.First.FieldName(c) == p.Second.FieldName(c)));

    [LoggerMessage(Level = LogLevel.Debug, Message = "Shadow of {Dataset}: live v{Live} vs shadow v{Shadow} on {Rows} rows, {Disagreements} label disagreements")]
    private partial void LogCompared(string dataset, int live, int shadow, int rows, int disagreements);
}
