namespace Ctm.Predictor.Models;

/// <summary>Thrown when a model's batching queue is full: the caller answers 503 with Retry-After.</summary>
public sealed class ServingOverloadedException(string message) : Exception(message);
