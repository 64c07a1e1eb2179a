using Ctm.Testing;

namespace Ctm.Observability.Tests;

/// <summary>The five services as real processes, exporting their telemetry over OTLP/HTTP to a collector this fixture runs.</summary>
public sealed class TracedSystem : CtmSystem, IAsyncLifetime
{
    public OtlpReceiver Collector { get; } = new();

    /// <summary>The class's one upload (its tests share the system, so they share its data): batch id and trace id.</summary>
    public (Guid BatchId, string TraceId)? Upload { get; set; }

    public SemaphoreSlim UploadLock { get; } = new(1, 1);

    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>(base.Settings)
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Collector.Endpoint.ToString(),
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        // Export spans soon after they end, so the test reads them back without waiting for the 5 s default.
        ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000",
    };

    async ValueTask IAsyncDisposable.DisposeAsync()
    {
        await DisposeAsync();
        await Collector.DisposeAsync();
    }
}
