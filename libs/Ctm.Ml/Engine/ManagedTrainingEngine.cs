using Ctm.Ml.Data;

namespace Ctm.Ml.Engine;

/// <summary>
/// Trains on the CPU in managed code: register-blocked SIMD matrix products (AVX-512 or AVX2 with FMA), a
/// hand-written backward pass and Adam (lazy for embedding rows), with each batch's 128-row shards spread over the
/// cores. Deterministic: same data, options and seed give bit-identical weights on any number of threads
/// (on the same instruction set).
/// </summary>
public sealed class ManagedTrainingEngine : ITrainingEngine
{
    /// <inheritdoc />
    public string Name => "ctm-managed-simd";

    /// <inheritdoc />
    public TrainedModel Train(
        TabularDataset train, TrainingOptions options, ModelState? warmStart = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Fit(train, null, options, warmStart, progress, cancellationToken);

    /// <inheritdoc />
    public TrainedModel Fit(
        TabularDataset train, TabularDataset? validation, TrainingOptions options, ModelState? warmStart = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return TrainingLoop.Fit(
            Name, train, validation, options, warmStart, progress,
            (net, data) => new TrainingRun(net, data, options, Threads(options)), cancellationToken);
    }

    /// <inheritdoc />
    public TrainingEstimate Estimate(
        TabularDataset train, TrainingOptions options, ModelState? warmStart = null,
        TimeSpan? warmup = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return TrainingLoop.Estimate(
            train, options, warmStart, warmup, (net, data) => new TrainingRun(net, data, options, Threads(options)), cancellationToken);
    }

    internal static (Preprocessing Prep, EncodedData Data, Network Net) Prepare(TabularDataset train, TrainingOptions options, ModelState? warmStart)
    {
        var prep = Preprocessing.Fit(train, options, warmStart);
        var data = prep.Encode(train, withLabels: true);
        var net = warmStart is null
            ? Network.Create(prep, options.HiddenLayers, new Rng((ulong)options.Seed))
            : Network.FromParent(warmStart, prep);
        return (prep, data, net);
    }

    internal static ModelState ToState(Preprocessing prep, Network net, long trainedSamples) =>
        new(prep.Task, prep.Features, prep.LabelName, prep.Classes, prep.Means, prep.Stds, prep.Vocabularies,
            prep.LabelMean, prep.LabelStd, net.Sizes, net.W, net.B, trainedSamples);

    /// <summary>Weighted mean loss of the network on the data, without training.</summary>
    internal static double MeanLoss(Network net, EncodedData data, TrainingOptions options)
    {
        var ws = new Workspace(net, TrainingRun.ShardRows);
        var order = Enumerable.Range(0, data.Rows).ToArray();
        double loss = 0, weight = 0;
        for (var start = 0; start < data.Rows; start += TrainingRun.ShardRows)
        {
            var rows = order.AsSpan(start, Math.Min(TrainingRun.ShardRows, data.Rows - start));
            net.Gather(ws, data, rows);
            net.Forward(ws);
            loss += net.LossAndLogitGradient(ws, rows, data, 1f);
            foreach (var r in rows)
            {
                weight += data.W?[r] ?? 1f;
            }
        }

        _ = options;
        return loss / weight;
    }

    private static int Threads(TrainingOptions options) =>
        options.MaxThreads == 0 ? Environment.ProcessorCount : Math.Min(options.MaxThreads, Environment.ProcessorCount);
}
