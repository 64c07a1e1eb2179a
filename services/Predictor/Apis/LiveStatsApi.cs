using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Ctm.Predictor.Models;
using Ctm.ServiceDefaults.Auth;
using Ctm.ServiceDefaults.Telemetry;

namespace Ctm.Predictor.Apis;

/// <summary>
/// This replica's live numbers for the operators' console, <c>GET /v1/live-stats</c>: per dataset the version it
/// serves, requests per second and latency percentiles over the last <see cref="LiveStats.WindowSeconds"/> seconds,
/// the requests since the replica started, and the hot-key cache's hits and misses since that version loaded.
/// Latency comes from the Predictor's own histogram (<c>ctm.predictor.prediction.duration</c>, the one <c>/metrics</c>
/// exports), read in process by a <see cref="MeterListener"/>, so these numbers and the exported ones are one measurement.
/// </summary>
public static class LiveStatsApi
{
    public static IEndpointRouteBuilder MapLiveStatsApi(this IEndpointRouteBuilder app)
    {
        // Listening starts with the host, not with the first request: the window must already hold the traffic when asked.
        var stats = new LiveStats(app.ServiceProvider.GetRequiredService<IMeterFactory>());
        app.ServiceProvider.GetRequiredService<IHostApplicationLifetime>().ApplicationStopped.Register(stats.Dispose);
        app.MapGet("/v1/live-stats", (ModelCatalog catalog, ReplicaIdentity replica) => TypedResults.Ok(stats.Snapshot(replica.Name, catalog)))
            .RequireAuthorization(CtmPolicies.Read);
        return app;
    }
}

/// <summary>One replica's numbers, as <c>GET /v1/live-stats</c> answers.</summary>
public sealed record LiveStatsDto(string Replica, DateTimeOffset At, int WindowSeconds, IReadOnlyList<DatasetLiveStats> Datasets);

/// <summary>
/// One dataset on one replica. Rates and percentiles cover the last <see cref="LiveStatsDto.WindowSeconds"/> whole
/// seconds (null percentiles: no request in the window); percentiles are bucket upper bounds, within 9 % above the truth.
/// The cache counts belong to the version loaded now (a swap starts them over); null when the cache is off.
/// </summary>
public sealed record DatasetLiveStats(
    string Dataset, int? Version, int? CanaryVersion, double CanaryShare, string? Path,
    double RequestsPerSecond, long RequestsInWindow, long RequestsTotal, double? P50Ms, double? P99Ms,
    long? CacheHits, long? CacheMisses, double? CacheHitRate);

/// <summary>Per dataset, per-second counts and log-scale latency buckets of the last few seconds, fed by the prediction histogram.</summary>
public sealed class LiveStats : IDisposable
{
    /// <summary>The seconds the rates and percentiles cover.</summary>
    public const int WindowSeconds = 10;

    /// <summary>The instrument this listens to; the console test fails if the Predictor stops recording under this name.</summary>
    public const string DurationInstrument = "ctm.predictor.prediction.duration";

    private const string MeterName = CtmTelemetry.MeterPrefix + "Predictor";

    private readonly ConcurrentDictionary<string, Window> _windows = new(StringComparer.Ordinal);
    private readonly MeterListener _listener;

    public LiveStats(IMeterFactory meters)
    {
        _listener = new MeterListener
        {
            // Only this host's meter: in-process test hosts may run several Predictors side by side.
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == MeterName && instrument.Name == DurationInstrument && ReferenceEquals(instrument.Meter.Scope, meters))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<double>((_, seconds, tags, _) => Record(DatasetOf(tags), seconds));
        _listener.Start();
    }

    public LiveStatsDto Snapshot(string replica, ModelCatalog catalog)
    {
        var now = Window.Now();
        var slots = catalog.Slots.ToDictionary(s => s.Dataset, StringComparer.Ordinal);
        var datasets = slots.Keys.Union(_windows.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal).Select(name =>
        {
            var slot = slots.GetValueOrDefault(name);
            var (inWindow, total, p50, p99) = _windows.TryGetValue(name, out var w) ? w.Read(now) : (0, 0, null, null);
            var cache = slot?.Primary is { Cache.Enabled: true } m ? m.Cache : null;
            var lookups = cache is null ? 0 : cache.Hits + cache.Misses;
            return new DatasetLiveStats(
                name, slot?.Primary?.Version, slot?.Canary?.Version, slot?.CanaryShare ?? 0, slot?.Primary?.Path,
                Math.Round((double)inWindow / WindowSeconds, 2), inWindow, total, p50, p99,
                cache?.Hits, cache?.Misses, lookups > 0 ? Math.Round((double)cache!.Hits / lookups, 4) : null);
        }).ToList();
        return new LiveStatsDto(replica, DateTimeOffset.UtcNow, WindowSeconds, datasets);
    }

    public void Dispose() => _listener.Dispose();

    private void Record(string dataset, double seconds) => _windows.GetOrAdd(dataset, static _ => new Window()).Add(seconds);

    private static string DatasetOf(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == "dataset" && tag.Value is string name)
            {
                return name;
            }
        }

        return "(unknown)";
    }

    /// <summary>
    /// A ring of one-second slots. Recording is two interlocked increments; a slot is cleared under a lock only when a new
    /// second reuses it, so the request path never waits on a reader.
    /// </summary>
    private sealed class Window
    {
        private const int Slots = WindowSeconds + 2; // the window, the second in progress, and one being reused
        private const int BucketsPerDoubling = 8;
        private const int Buckets = 32 * BucketsPerDoubling; // 1 µs to about 70 minutes
        private const double Smallest = 1e-6;

        private readonly long[] _second = new long[Slots];
        private readonly long[] _count = new long[Slots];
        private readonly long[] _buckets = new long[Slots * Buckets];
        private readonly Lock _reuse = new();
        private long _total;

        public static long Now() => Environment.TickCount64 / 1000;

        public void Add(double seconds)
        {
            var now = Now();
            var s = (int)(now % Slots);
            if (Volatile.Read(ref _second[s]) != now)
            {
                lock (_reuse)
                {
                    if (_second[s] != now)
                    {
                        Array.Clear(_buckets, s * Buckets, Buckets);
                        _count[s] = 0;
                        Volatile.Write(ref _second[s], now);
                    }
                }
            }

            var bucket = seconds <= Smallest ? 0 : (int)Math.Min(Buckets - 1, Math.Log2(seconds / Smallest) * BucketsPerDoubling);
            Interlocked.Increment(ref _count[s]);
            Interlocked.Increment(ref _buckets[(s * Buckets) + bucket]);
            Interlocked.Increment(ref _total);
        }

        /// <summary>Requests in the last <see cref="WindowSeconds"/> whole seconds, since start, and the window's p50 and p99 in milliseconds.</summary>
        public (long InWindow, long Total, double? P50, double? P99) Read(long now)
        {
            var merged = new long[Buckets];
            long count = 0;
            for (var s = 0; s < Slots; s++)
            {
                var second = Volatile.Read(ref _second[s]);
                if (second < now - WindowSeconds || second >= now)
                {
                    continue;
                }

                count += Interlocked.Read(ref _count[s]);
                for (var b = 0; b < Buckets; b++)
                {
                    merged[b] += Interlocked.Read(ref _buckets[(s * Buckets) + b]);
                }
            }

            return (count, Interlocked.Read(ref _total), Percentile(merged, 0.50), Percentile(merged, 0.99));
        }

        private static double? Percentile(long[] buckets, double q)
        {
            var total = buckets.Sum();
            if (total == 0)
            {
                return null;
            }

            var rank = (long)Math.Ceiling(q * total);
            long seen = 0;
            for (var b = 0; b < buckets.Length; b++)
            {
                seen += buckets[b];
                if (seen >= rank)
                {
                    return Math.Round(Smallest * Math.Pow(2, (b + 1) / (double)BucketsPerDoubling) * 1000, 3);
                }
            }

            return null;
        }
    }
}
