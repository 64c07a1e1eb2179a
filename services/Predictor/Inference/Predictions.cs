using Ctm.Predictor.Extensions;
using Ctm.Predictor.Models;
using Ctm.Predictor.Monitoring;
using Microsoft.Extensions.Options;

namespace Ctm.Predictor.Inference;

/// <summary>What every protocol shares: choosing the model (pinned, canary or primary) and predicting, with statistics and shadow copies.</summary>
public sealed class Predictions(ModelCatalog catalog, IOptions<ServingOptions> options, ServingStatistics statistics, ShadowRecorder shadow, PredictorMetrics metrics, ServedPredictionRecorder served)
{
    public ServingOptions Options => options.Value;

    /// <summary>A lease on the model that answers (dispose it when done), or null when none is served.</summary>
    public ValueTask<ModelLease?> AcquireAsync(string name, int? version, CancellationToken ct) =>
        catalog.AcquireAsync(name, version, TimeSpan.FromSeconds(options.Value.UnloadWaitSeconds), ct);

    /// <summary>A lease on the model that answers now, without waiting out a swap's gap (null then, and when none is served).</summary>
    public ModelLease? TryAcquire(string name, int? version) => catalog.Acquire(name, version);

    /// <exception cref="ServingOverloadedException">The model's queue is full.</exception>
    public async ValueTask<Prediction[]> PredictAsync(LoadedModel model, RowBlock block)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var answers = await model.PredictAsync(block);
        metrics.RecordPrediction(model, started);
        statistics.Observe(model, block);
        shadow.Offer(model, block, answers);
        served.Offer(model, block, answers);
        return answers;
    }

    public static string NotFound(string name, int? version) => version is null
        ? $"Servable not found for request: Latest({name}): no version of model '{name}' is being served"
        : $"Servable not found for request: Specific({name}, {version}): version {version} of model '{name}' is not loaded (served: the promoted version, and a canary or shadow if configured)";
}
