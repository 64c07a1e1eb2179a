using System.Diagnostics.Metrics;

namespace Ctm.ServiceDefaults.Telemetry;

/// <summary>The outbox's instruments (meter <c>Ctm.Messaging</c>); the service is told apart by the resource's <c>service.name</c>.</summary>
public static class MessagingMetrics
{
    private static readonly Meter Meter = new(CtmTelemetry.MeterPrefix + "Messaging");

    /// <summary>Seconds from an outbox row's commit to its publish confirm: how far the bus lags the database.</summary>
    public static readonly Histogram<double> OutboxLag = Meter.CreateHistogram<double>(
        "ctm.outbox.lag", "s", "Seconds from an outbox row's commit to the broker's confirm of its publish");

    /// <summary>Messages the outbox relay published, by message type.</summary>
    public static readonly Counter<long> OutboxPublished = Meter.CreateCounter<long>(
        "ctm.outbox.published", "{message}", "Messages the outbox relay published");
}
