using System.Diagnostics;
using System.Diagnostics.Metrics;
using Ctm.Predictor.Models;
using Ctm.ServiceDefaults.Telemetry;

namespace Ctm.Predictor.Monitoring;

/// <summary>
/// The Predictor's instruments (meter <c>Ctm.Predictor</c>, on <c>/metrics</c> and OTLP): prediction latency, and per
/// loaded version its hot-key cache hits and misses and its micro-batch queue depth, read from the catalog when scraped.
/// </summary>
public sealed class PredictorMetrics
{
    private readonly Histogram<double> _duration;

    public PredictorMetrics(IMeterFactory meters, ModelCatalog catalog)
    {
        var meter = meters.Create(CtmTelemetry.MeterPrefix + "Predictor");
        _duration = meter.CreateHistogram<double>(
            "ctm.predictor.prediction.duration", "s", "Seconds from a prediction request's rows to their answers, queueing included",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] });
        // Counts live on each loaded version (a swap starts new ones), so each version is its own series.
        meter.CreateObservableCounter("ctm.predictor.cache.hits", () => PerVersion(catalog, m => m.Cache.Hits), "{lookup}", "Hot-key cache hits");
        meter.CreateObservableCounter("ctm.predictor.cache.misses", () => PerVersion(catalog, m => m.Cache.Misses), "{lookup}", "Hot-key cache misses");
        meter.CreateObservableGauge("ctm.predictor.queue.depth", () => PerVersion(catalog, m => (long)(m.Batcher?.Queued ?? 0)), "{request}", "Requests waiting in the micro-batch queue");
    }

    /// <summary>Records one prediction call that started at <paramref name="started"/> (a <see cref="Stopwatch"/> timestamp).</summary>
    public void RecordPrediction(LoadedModel model, long started) =>
        _duration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new("dataset", model.Dataset), new("path", model.Path));

    private static IEnumerable<Measurement<long>> PerVersion(ModelCatalog catalog, Func<LoadedModel, long> value) =>
        catalog.All.Select(m => new Measurement<long>(value(m), new KeyValuePair<string, object?>("dataset", m.Dataset), new("version", m.Version)));
}
