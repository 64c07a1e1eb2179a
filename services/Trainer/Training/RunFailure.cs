namespace Ctm.Trainer.Training;

/// <summary>Tells a run that cannot succeed as asked (bad data or options: retrying changes nothing) from a transient failure.</summary>
public static class RunFailure
{
    /// <summary>
    /// True for failures that come from the run's data or options: argument, format and invalid-data errors (the ML
    /// core's way of naming a problem with its input), a diverging loss, and the two exceptions below.
    /// Everything else (network, database, broker, a batch excluded mid-run) is worth retrying.
    /// </summary>
    public static bool IsDeterministic(Exception e) =>
        e is ArgumentException or FormatException or InvalidDataException or ArithmeticException or KeyNotFoundException
            or UnusableParentException or UnusableBatchException;
}
