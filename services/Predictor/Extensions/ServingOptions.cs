using System.ComponentModel.DataAnnotations;

namespace Ctm.Predictor.Extensions;

/// <summary>Serving settings, from the <c>Serving</c> section.</summary>
public sealed class ServingOptions
{
    public const string Section = "Serving";

    /// <summary>ONNX Runtime threads per session (0 = ORT's default).</summary>
    [Range(0, 256)]
    public int IntraOpThreads { get; set; } = 1;

    /// <summary>Largest number of instances in one request.</summary>
    [Range(1, 1_000_000)]
    public int MaxInstancesPerRequest { get; set; } = 10_000;

    /// <summary>A model whose inputs all have static domains is served from a precomputed table if it has at most this many combinations (0 = never).</summary>
    [Range(0, 10_000_000)]
    public int StaticTableLimit { get; set; } = 100_000;

    /// <summary>Micro-batching: most rows in one ONNX Runtime call.</summary>
    [Range(1, 100_000)]
    public int MaxBatchSize { get; set; } = 64;

    /// <summary>Micro-batching: how long a batch thread waits for more rows after the first (0 = take what is queued, never wait).</summary>
    [Range(0, 1_000_000)]
    public int BatchTimeoutMicroseconds { get; set; }

    /// <summary>Micro-batching: threads running batches per model.</summary>
    [Range(1, 64)]
    public int BatchThreads { get; set; } = 1;

    /// <summary>Micro-batching: requests that may wait per model; beyond it, 503 with Retry-After.</summary>
    [Range(1, 1_000_000)]
    public int QueueCapacity { get; set; } = 1024;

    /// <summary>Seconds a client is told to wait (Retry-After) when the queue is full.</summary>
    [Range(1, 3600)]
    public int RetryAfterSeconds { get; set; } = 1;

    /// <summary>Entries of the hot-key cache per model version on the dynamic path (0 = no cache).</summary>
    [Range(0, 10_000_000)]
    public int HotKeyCacheSize { get; set; } = 10_000;

    /// <summary>
    /// Resource-preserving swaps for big models: release the serving version (after its requests finish) before
    /// loading the next. Requests arriving in between wait for the new version, up to <see cref="UnloadWaitSeconds"/>.
    /// </summary>
    public bool UnloadBeforeLoad { get; set; }

    /// <summary>With <see cref="UnloadBeforeLoad"/>: how long a request waits for the next version.</summary>
    [Range(1, 600)]
    public int UnloadWaitSeconds { get; set; } = 30;

    /// <summary>Serving statistics: share of served rows sampled (0 = none).</summary>
    [Range(0.0, 1.0)]
    public double StatisticsSampleRate { get; set; } = 0.1;

    /// <summary>
    /// Serving statistics: at most this many sampled rows per second per model version (0 = no cap). Skew needs
    /// a few thousand rows per report, not every tenth request of a busy replica; summarizing them is the costly part.
    /// </summary>
    [Range(0, 1_000_000)]
    public int StatisticsMaxRowsPerSecond { get; set; } = 200;

    /// <summary>Serving statistics: seconds between reports.</summary>
    [Range(1, 86_400)]
    public int StatisticsIntervalSeconds { get; set; } = 60;

    /// <summary>Seconds between this replica's reports to the Registry (alive, and what it serves); the Registry counts it live for a few of these.</summary>
    [Range(1, 3600)]
    public int ReportIntervalSeconds { get; set; } = 5;

    /// <summary>Shadow comparisons that may wait; beyond it a copy is dropped (and counted), never the live answer delayed.</summary>
    [Range(1, 1_000_000)]
    public int ShadowQueueCapacity { get; set; } = 1024;

    /// <summary>Canary and shadow versions per dataset set at start-up (they can also be set through <c>PUT /v1/models/{name}/traffic</c>).</summary>
    public Dictionary<string, TrafficSettings> Traffic { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>Canary and shadow for one dataset.</summary>
public sealed class TrafficSettings
{
    /// <summary>A challenger version that answers <see cref="CanaryShare"/> of the traffic.</summary>
    public int? CanaryVersion { get; set; }

    /// <summary>Share of requests the challenger answers, 0 to 1.</summary>
    [Range(0.0, 1.0)]
    public double CanaryShare { get; set; }

    /// <summary>A version that receives a copy of the traffic; its answers are recorded, never returned.</summary>
    public int? ShadowVersion { get; set; }
}
