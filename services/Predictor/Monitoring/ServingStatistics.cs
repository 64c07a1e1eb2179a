using System.Collections.Concurrent;
using Ctm.Contracts;
using Ctm.Data.Statistics;
using Ctm.Predictor.Extensions;
using Ctm.Predictor.Inference;
using Ctm.Predictor.Models;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Ctm.Predictor.Monitoring;

/// <summary>
/// Samples served inputs per dataset and version into the Validator's statistics form (<see cref="StatisticsBuilder"/>);
/// <see cref="ServingStatisticsReporter"/> publishes and resets them every interval, for skew detection.
/// </summary>
public sealed class ServingStatistics(IOptions<ServingOptions> options, TimeProvider clock)
{
    private readonly ConcurrentDictionary<(string Dataset, int Version), Window> _windows = new();

    public void Observe(LoadedModel model, RowBlock block)
    {
        var rate = options.Value.StatisticsSampleRate;
        if (rate <= 0)
        {
            return;
        }

        var window = _windows.GetOrAdd((model.Dataset, model.Version), static (_, a) => new Window(a.Signature, a.Clock.GetUtcNow()), (block.Signature, Clock: clock));
        Interlocked.Add(ref window.Served, block.Count);
        // The cap is checked without the lock, once per request: a few rows over it do no harm, waiting for the lock would.
        var cap = options.Value.StatisticsMaxRowsPerSecond;
        var allowed = cap > 0 ? (cap * Math.Max(1, (clock.GetUtcNow() - window.Start).TotalSeconds)) - window.Sampled : double.MaxValue;
        for (var r = 0; r < block.Count && allowed > 0; r++)
        {
            if (rate >= 1 || Random.Shared.NextDouble() < rate)
            {
                window.Add(block, r);
                allowed--;
            }
        }
    }

    /// <summary>The windows with sampled rows, as messages; the windows start over.</summary>
    public IReadOnlyList<ServingStatisticsReported> Drain(string replica)
    {
        var reports = new List<ServingStatisticsReported>();
        var now = clock.GetUtcNow();
        foreach (var (key, _) in _windows)
        {
            if (!_windows.TryRemove(key, out var window))
            {
                continue;
            }

            var (statistics, sampled) = window.Close();
            if (sampled == 0)
            {
                continue;
            }

            reports.Add(new ServingStatisticsReported
            {
                Dataset = key.Dataset,
                ModelVersion = key.Version,
                Replica = replica,
                WindowStart = window.Start,
                WindowEnd = now,
                SampledRows = sampled,
                ServedRows = Interlocked.Read(ref window.Served),
                Statistics = statistics.ToJson(),
                CorrelationId = Guid.NewGuid(),
            });
        }

        return reports;
    }

    private sealed class Window
    {
        private readonly Lock _lock = new();
        private readonly StatisticsBuilder _builder;
        private readonly ModelSignature _signature;
        private long _sampled;
        public long Served;

        public Window(ModelSignature signature, DateTimeOffset start)
        {
            _signature = signature;
            Start = start;
            _builder = new StatisticsBuilder([.. signature.Inputs.SelectMany(i => Enumerable.Range(0, i.Width).Select(i.FieldName))]);
        }

        public DateTimeOffset Start { get; }

        public long Sampled => Volatile.Read(ref _sampled);

        public void Add(RowBlock block, int row)
        {
            lock (_lock)
            {
                var column = 0;
                foreach (var input in _signature.Inputs)
                {
                    for (var c = 0; c < input.Width; c++, column++)
                    {
                        switch (input.Kind)
                        {
                            case CellKind.Number when input.Type == Onnx.TensorElementType.Bool:
                                _builder.Add(column, block.Number(row, input, c) != 0 ? "true" : "false");
                                break;
                            case CellKind.Number:
                                var value = block.Number(row, input, c);
                                if (double.IsNaN(value))
                                {
                                    _builder.AddMissing(column);
                                }
                                else
                                {
                                    _builder.Add(column, value);
                                }

                                break;
                            case CellKind.Integer:
                                _builder.Add(column, block.Integer(row, input, c));
                                break;
                            default:
                                _builder.Add(column, block.Text(row, input, c));
                                break;
                        }
                    }
                }

                _builder.EndRow();
                _sampled++;
            }
        }

        public (BatchStatistics Statistics, long Sampled) Close()
        {
            lock (_lock)
            {
                return (_builder.Build(), _sampled);
            }
        }
    }
}

/// <summary>Publishes <see cref="ServingStatisticsReported"/> per dataset and version every <see cref="ServingOptions.StatisticsIntervalSeconds"/>.</summary>
public sealed partial class ServingStatisticsReporter(
    ServingStatistics statistics, IBus bus, ReplicaIdentity replica, IOptions<ServingOptions> options, ILogger<ServingStatisticsReporter> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.StatisticsIntervalSeconds));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            foreach (var report in statistics.Drain(replica.Name))
            {
                try
                {
                    await bus.Publish(report, stoppingToken);
                    LogReported(report.Dataset, report.ModelVersion, report.SampledRows, report.ServedRows);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogFailed(e, report.Dataset, report.ModelVersion);
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Serving statistics of {Dataset} v{Version}: {Sampled} of {Served} rows sampled")]
    private partial void LogReported(string dataset, int version, long sampled, long served);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not publish the serving statistics of {Dataset} v{Version}")]
    private partial void LogFailed(Exception error, string dataset, int version);
}
