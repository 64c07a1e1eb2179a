using System.Text.Json;
using Ctm.Onnx;
using Ctm.Predictor.Extensions;
using Ctm.Predictor.Inference;
using Ctm.Predictor.Models;
using Microsoft.Extensions.Options;

namespace Ctm.Predictor.Apis;

/// <summary>TensorFlow Serving's REST protocol: <c>instances</c> in, <c>predictions</c> out, errors as <c>{"error": ...}</c>.</summary>
public static class PredictApi
{
    public static IEndpointRouteBuilder MapPredictApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/models/{name}:predict", PredictAsync);
        app.MapGet("/v1/models/{name}", Status);
        app.MapGet("/v1/models", List);
        return app;
    }

    public static async Task<IResult> PredictAsync(string name, HttpRequest request, ModelCatalog catalog, IOptions<ServingOptions> options, CancellationToken ct)
    {
        JsonDocument body;
        try
        {
            body = await JsonDocument.ParseAsync(request.Body, cancellationToken: ct);
        }
        catch (JsonException e)
        {
            return Error(StatusCodes.Status400BadRequest, $"the request body is not valid JSON: {e.Message}");
        }

        using (body)
        {
            if (body.RootElement.ValueKind != JsonValueKind.Object || !body.RootElement.TryGetProperty("instances", out var instances) || instances.ValueKind != JsonValueKind.Array)
            {
                return Error(StatusCodes.Status400BadRequest, "the request must be a JSON object with an 'instances' array");
            }

            var rows = instances.EnumerateArray().ToList();
            if (rows.Count > options.Value.MaxInstancesPerRequest)
            {
                return Error(StatusCodes.Status400BadRequest, $"{rows.Count} instances exceed the limit of {options.Value.MaxInstancesPerRequest} per request");
            }

            var model = catalog.Acquire(name);
            if (model is null)
            {
                return Error(StatusCodes.Status404NotFound, $"no version of model '{name}' is being served");
            }

            try
            {
                var inputs = InstanceEncoder.Encode(model.Session, rows);
                var outputs = model.Session.Run(inputs);
                var classes = model.Session.Metadata.TryGetValue("ctm.classes", out var json) ? JsonSerializer.Deserialize<string[]>(json) : null;
                var predictions = new object?[rows.Count];
                for (var i = 0; i < rows.Count; i++)
                {
                    predictions[i] = InstanceEncoder.Decode(model.Session.Outputs, outputs, i, classes);
                }

                return Results.Json(new Dictionary<string, object?>
                {
                    ["predictions"] = predictions,
                    ["model_version"] = model.Version.ToString(System.Globalization.CultureInfo.InvariantCulture),
                });
            }
            catch (PredictionInputException e)
            {
                return Error(StatusCodes.Status400BadRequest, e.Message);
            }
            catch (OnnxRuntimeException e)
            {
                return Error(StatusCodes.Status400BadRequest, e.Message);
            }
            finally
            {
                model.Release();
            }
        }
    }

    public static IResult Status(string name, ModelCatalog catalog)
    {
        var model = catalog.All.FirstOrDefault(m => m.Dataset == name);
        return model is null
            ? Error(StatusCodes.Status404NotFound, $"no version of model '{name}' is being served")
            : Results.Json(new
            {
                model_version_status = new[]
                {
                    new { version = model.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), state = "AVAILABLE", status = new { error_code = "OK", error_message = "" } },
                },
            });
    }

    public static IResult List(ModelCatalog catalog) =>
        Results.Json(catalog.All.Select(m => new
        {
            name = m.Dataset,
            version = m.Version,
            generation = m.Generation,
            sha256 = m.Sha256,
            loadedAt = m.LoadedAt,
            inputs = m.Session.Inputs.Select(i => i.ToString()),
            outputs = m.Session.Outputs.Select(o => o.ToString()),
        }));

    private static IResult Error(int status, string message) => Results.Json(new { error = message }, statusCode: status);
}
