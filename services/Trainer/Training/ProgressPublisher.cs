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
    private Task _pending = Task.CompletedTask;

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
            // Chained, so events leave in order and the run's last event is the completed one.
            var message = ToMessage(value, completed: false);
            _pending = _pending.ContinueWith(_ => bus.Publish(message), TaskScheduler.Default).Unwrap();
        }
    }

    public async Task CompleteAsync(TrainedModel model, CancellationToken ct)
    {
        TrainingProgress? last;
        Task pending;
        lock (_gate)
        {
            (last, pending) = (_latest, _pending);
        }

        try
        {
            await pending;
        }
        catch (Exception)
        {
            // Progress is best effort; a lost event must not fail the run.
        }

        await bus.Publish(new TrainingProgressed
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
