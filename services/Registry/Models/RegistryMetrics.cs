using System.Diagnostics.Metrics;
using Ctm.Registry.Policies;
using Ctm.ServiceDefaults.Storage;
using Ctm.ServiceDefaults.Telemetry;

namespace Ctm.Registry.Models;

/// <summary>The Registry's instruments (meter <c>Ctm.Registry</c>, on <c>/metrics</c> and OTLP).</summary>
public static class RegistryMetrics
{
    private static readonly Meter Meter = new(CtmTelemetry.MeterPrefix + "Registry");

    private static readonly Counter<long> Promotions = Meter.CreateCounter<long>(
        "ctm.registry.promotions", "{promotion}", "Versions promoted, by dataset and reason (trained, external, manual, rollback)");

    private static readonly Counter<long> Rollbacks = Meter.CreateCounter<long>(
        "ctm.registry.rollbacks", "{rollback}", "Rollback requests answered, by dataset and outcome");

    /// <summary>Counts a promotion.</summary>
    public static void RecordPromotion(string dataset, string reason) => Promotions.Add(1, new("dataset", dataset), new("reason", reason));

    /// <summary>Counts an answered rollback request.</summary>
    public static void RecordRollback(string dataset, ActionStatus outcome) => Rollbacks.Add(1, new("dataset", dataset), new("outcome", EnumText<ActionStatus>.Name(outcome)));
}
