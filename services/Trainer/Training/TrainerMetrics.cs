using System.Diagnostics;
using System.Diagnostics.Metrics;
using Ctm.ServiceDefaults.Telemetry;

namespace Ctm.Trainer.Training;

/// <summary>The Trainer's instruments (meter <c>Ctm.Trainer</c>, on <c>/metrics</c> and OTLP).</summary>
public static class TrainerMetrics
{
    private static readonly Meter Meter = new(CtmTelemetry.MeterPrefix + "Trainer");

    private static readonly Histogram<double> RunSeconds = Meter.CreateHistogram<double>(
        "ctm.trainer.run.duration", "s", "Seconds a training run took, by dataset and outcome (trained, failed, retry)");

    /// <summary>Records a run that started at <paramref name="started"/> (a <see cref="Stopwatch"/> timestamp).</summary>
    public static void RecordRun(string dataset, string outcome, long started) =>
        RunSeconds.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new("dataset", dataset), new("outcome", outcome));
}
