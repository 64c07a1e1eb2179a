namespace Ctm.Trainer.Training;

/// <summary>A retrain request names a version that cannot be warm-started from (unknown, or not trained here).</summary>
public sealed class UnusableParentException(int version, string message) : Exception(message)
{
    public int Version { get; } = version;
}
