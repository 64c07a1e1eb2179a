using System.Diagnostics.Metrics;
using Ctm.ServiceDefaults.Storage;
using Ctm.ServiceDefaults.Telemetry;
using Ctm.Validator.Storage;

namespace Ctm.Validator.Validation;

/// <summary>The Validator's instruments (meter <c>Ctm.Validator</c>, on <c>/metrics</c> and OTLP).</summary>
public static class ValidatorMetrics
{
    private static readonly Meter Meter = new(CtmTelemetry.MeterPrefix + "Validator");

    private static readonly Counter<long> Batches = Meter.CreateCounter<long>(
        "ctm.validator.batches", "{batch}", "Batches decided, by dataset and decision (accepted, quarantined, released, discarded)");

    /// <summary>Counts a committed decision.</summary>
    public static void RecordDecision(string dataset, BatchStatus decision) =>
        Batches.Add(1, new("dataset", dataset), new("decision", EnumText<BatchStatus>.Name(decision)));
}
