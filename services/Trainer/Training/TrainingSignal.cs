using Ctm.ServiceDefaults.Storage;

namespace Ctm.Trainer.Training;

/// <summary>
/// Wakes the training worker when a job is recorded (here, or at another replica through PostgreSQL's notification on
/// the jobs table) or a policy changes, so it does not wait for its next poll.
/// </summary>
public sealed class TrainingSignal : WakeSignal;
