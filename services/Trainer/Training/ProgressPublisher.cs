using Ctm.Contracts;
using Ctm.Ml;
using MassTransit;

namespace Ctm.Trainer.Training;

/// <summary>
/// Publishes <see cref="TrainingProgressed"/> at most every half second while a run trains (so at least once a
/// second), and a final event when it ends. Progress is ephemeral: it goes straight to the bus, not the outbox.
/// </summary>
public sealed class ProgressPublisher(IBus bus, Guid runId, string dataset, Guid correlationId, TimeProvider clock) : IProgress<TrainingProgress>
{
    private readonly object _gate = new();
    private DateTimeOffset _last = DateTimeOffset.MinValue;
    private TrainingProgress? _latest;

    public void Report(TrainingProgress value)
    {
        lock (_gate)
        {
            _latest = value;
            var now = clock.GetUtcNow();
            if (now - _last < TimeSpan.FromMilliseconds(500))
            {
                return;
            }

            _last = now;
        }

        _ = bus.Publish(ToMessage(value, completed: false));
    }

    public Task CompleteAsync(TrainedModel model, CancellationToken ct)
    {
        var last = _latest;
        return bus.Publish(new TrainingProgressed
        {
            RunId = runId,
            Dataset = dataset,
            CorrelationId = correlationId,
            Epoch = last?.Epochs ?? 0,
            Epochs = last?.Epochs ?? 0,
            Loss = model.LossCurve.Count > 0 ? model.LossCurve[^1] : double.NaN,
            SamplesPerSecond = model.SamplesPerSecond,
            EstimatedRemaining = TimeSpan.Zero,
            Completed = true,
        }, ct);
    }

    private TrainingProgressed ToMessage(TrainingProgress p, bool completed) => new()
    {
        RunId = runId,
        Dataset = dataset,
        CorrelationId = correlationId,
        Epoch = p.Epoch,
        Epochs = p.Epochs,
        Loss = p.Loss,
        SamplesPerSecond = p.SamplesPerSecond,
        EstimatedRemaining = p.EstimatedRemaining,
        Completed = completed,
    };
}
