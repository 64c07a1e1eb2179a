namespace Ctm.Trainer.Training;

/// <summary>Wakes the training worker when a job is recorded, so it does not wait for its next poll.</summary>
public sealed class TrainingSignal
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Notify()
    {
        try
        {
            _signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled.
        }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => _signal.WaitAsync(timeout, ct);
}
