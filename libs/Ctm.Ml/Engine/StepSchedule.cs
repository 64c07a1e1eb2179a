namespace Ctm.Ml.Engine;

/// <summary>The learning rate of each optimizer step under <see cref="TrainingOptions.Schedule"/>.</summary>
internal sealed class StepSchedule(TrainingOptions options, int batchesPerEpoch)
{
    private readonly long _total = Math.Max(1L, (long)options.Epochs * batchesPerEpoch);
    private readonly long _warmup = Math.Min(batchesPerEpoch, (long)Math.Ceiling(0.05 * options.Epochs * batchesPerEpoch));

    /// <summary>The rate of step <paramref name="step"/> (from 0).</summary>
    public double At(long step)
    {
        var rate = options.LearningRate;
        if (options.Schedule == LearningRateSchedule.Constant)
        {
            return rate;
        }

        if (step < _warmup)
        {
            return rate * (step + 1) / _warmup;
        }

        var floor = rate * options.MinLearningRateFraction;
        var progress = Math.Min(1.0, (double)(step - _warmup) / Math.Max(1, _total - _warmup - 1));
        return floor + ((rate - floor) * 0.5 * (1 + Math.Cos(Math.PI * progress)));
    }
}
