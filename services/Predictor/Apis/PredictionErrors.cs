using Ctm.Predictor.Extensions;
using Ctm.Predictor.Inference;
using Ctm.Predictor.Models;

namespace Ctm.Predictor.Apis;

/// <summary>
/// How a failed prediction is answered, alike in both protocols (TF Serving REST and the Open Inference Protocol share the
/// <c>{"error": …}</c> form): the request's fault 400, no such model 404, a full queue 503 with Retry-After, an engine
/// fault 500, each with its message.
/// </summary>
public static class PredictionErrors
{
    /// <summary>Whether <paramref name="e"/> is a prediction failure that <see cref="WriteAsync"/> answers.</summary>
    public static bool Answers(Exception e) => e is PredictionInputException or ServingOverloadedException or ServingFaultException;

    /// <summary>Answers a failure that <see cref="Answers"/> accepts.</summary>
    public static Task WriteAsync(HttpResponse response, Exception e, ServingOptions options) => e switch
    {
        PredictionInputException => JsonResponses.ErrorAsync(response, StatusCodes.Status400BadRequest, e.Message),
        ServingOverloadedException => JsonResponses.ErrorAsync(response, StatusCodes.Status503ServiceUnavailable, $"{e.Message}; retry later", options.RetryAfterSeconds),
        ServingFaultException => JsonResponses.ErrorAsync(response, StatusCodes.Status500InternalServerError, e.Message),
        _ => throw new ArgumentException($"{e.GetType().Name} is not a prediction failure", nameof(e)),
    };

    /// <summary>404: no version of <paramref name="name"/> (or not <paramref name="version"/>) is served.</summary>
    public static Task NotFoundAsync(HttpResponse response, string name, int? version) =>
        JsonResponses.ErrorAsync(response, StatusCodes.Status404NotFound, Predictions.NotFound(name, version));
}
