namespace Ctm.ServiceDefaults.Messaging;

/// <summary>The broker refused this service's user an operation on a queue that belongs to another service.</summary>
public sealed class BrokerAccessRefusedException(string message, Exception inner) : Exception(message, inner);
