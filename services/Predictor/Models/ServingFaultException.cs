namespace Ctm.Predictor.Models;

/// <summary>ONNX Runtime failed for a reason that is not the request's (the engine, memory, a provider): the caller answers 500 with the message.</summary>
public sealed class ServingFaultException(string message, Exception? inner = null) : Exception(message, inner);
