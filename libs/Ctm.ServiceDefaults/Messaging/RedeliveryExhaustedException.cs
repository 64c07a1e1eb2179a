namespace Ctm.ServiceDefaults.Messaging;

/// <summary>A message kept failing for a reason that may pass, for longer than the redelivery window.</summary>
public sealed class RedeliveryExhaustedException(string message, Exception inner) : Exception(message, inner);
