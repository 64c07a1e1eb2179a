namespace Ctm.ServiceDefaults.Messaging;

/// <summary>A failure that no retry can cure: the message is refused at once, with this reason, and goes to its error queue.</summary>
public sealed class PermanentFailureException(string message, Exception? inner = null) : Exception(message, inner);
