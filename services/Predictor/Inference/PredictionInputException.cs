namespace Ctm.Predictor.Inference;

/// <summary>An instance that does not fit the model's inputs; the message names the instance and the feature.</summary>
public sealed class PredictionInputException(string message) : Exception(message);
