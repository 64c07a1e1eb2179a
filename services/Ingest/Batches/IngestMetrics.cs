using System.Diagnostics;
using System.Diagnostics.Metrics;
using Ctm.ServiceDefaults.Telemetry;

namespace Ctm.Ingest.Batches;

/// <summary>The Ingest's instruments (meter <c>Ctm.Ingest</c>, on <c>/metrics</c> and OTLP).</summary>
public static class IngestMetrics
{
    private static readonly Meter Meter = new(CtmTelemetry.MeterPrefix + "Ingest");

    private static readonly Counter<long> Batches = Meter.CreateCounter<long>("ctm.ingest.batches", "{batch}", "Batches stored, by dataset and source");
    private static readonly Counter<long> Rows = Meter.CreateCounter<long>("ctm.ingest.rows", "{row}", "Rows stored, by dataset");
    private static readonly Counter<long> Bytes = Meter.CreateCounter<long>("ctm.ingest.bytes", "By", "Bytes of stored batch content, by dataset");

    /// <summary>Counts a stored batch and tags the current span with its id, so the upload's trace can be found by batch.</summary>
    public static void RecordBatch(Guid batchId, string dataset, string source, long rows, long bytes)
    {
        Activity.Current?.SetTag("ctm.batch_id", batchId.ToString());
        Activity.Current?.SetTag("ctm.dataset", dataset);
        Batches.Add(1, new("dataset", dataset), new("source", source));
        Rows.Add(rows, new KeyValuePair<string, object?>("dataset", dataset));
        Bytes.Add(bytes, new KeyValuePair<string, object?>("dataset", dataset));
    }
}
