namespace Ctm.ServiceDefaults.Storage;

/// <summary>Wakes the outbox relay right after a commit, so messages do not wait for the next poll.</summary>
public sealed class OutboxSignal : WakeSignal;
