using System.Globalization;
using System.Text.Json;
using Ctm.Predictor.Extensions;
using Ctm.Predictor.Inference;
using Ctm.Predictor.Models;
using Ctm.Predictor.Monitoring;
using Microsoft.Extensions.Options;

namespace Ctm.Predictor.Apis;

/// <summary>
/// TensorFlow Serving's REST protocol: <c>instances</c> in (objects keyed by feature; an optional <c>"key"</c> comes back
/// in its prediction), <c>predictions</c> out with <c>model_version</c>, errors as <c>{"error": …}</c>.
/// </summary>
public static class TfServingApi
{
    public static IEndpointRouteBuilder MapTfServingApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/models/{name}:predict", (string name, HttpContext context, Predictions predictions) => PredictAsync(context, predictions, name, null));
        app.MapPost("/v1/models/{name}/versions/{version}:predict", (string name, string version, HttpContext context, Predictions predictions) =>
            int.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var v)
                ? PredictAsync(context, predictions, name, v)
                : JsonResponses.ErrorAsync(context.Response, StatusCodes.Status400BadRequest, $"version '{version}' is not a number"));
        app.MapGet("/v1/models/{name}", (string name, ModelCatalog catalog) => Status(name, null, catalog));
        app.MapGet("/v1/models/{name}/versions/{version:int}", (string name, int version, ModelCatalog catalog) => Status(name, version, catalog));
        app.MapGet("/v1/models", List);
        return app;
    }

    public static async Task PredictAsync(HttpContext context, Predictions predictions, string name, int? version)
    {
        var ct = context.RequestAborted;
        using var body = await JsonResponses.ReadAsync(context.Request, ct);
        if (body is null)
        {
            return;
        }

        var response = context.Response;
        if (body.RootElement.ValueKind != JsonValueKind.Object || !body.RootElement.TryGetProperty("instances", out var instances) || instances.ValueKind != JsonValueKind.Array)
        {
            await JsonResponses.ErrorAsync(response, StatusCodes.Status400BadRequest, "the request must be a JSON object with an 'instances' array");
            return;
        }

        var count = instances.GetArrayLength();
        if (count == 0 || count > predictions.Options.MaxInstancesPerRequest)
        {
            await JsonResponses.ErrorAsync(response, StatusCodes.Status400BadRequest, count == 0
                ? "'instances' is empty"
                : $"{count} instances exceed the limit of {predictions.Options.MaxInstancesPerRequest} per request");
            return;
        }

        var (model, _) = await predictions.AcquireAsync(name, version, ct);
        if (model is null)
        {
            await JsonResponses.ErrorAsync(response, StatusCodes.Status404NotFound, Predictions.NotFound(name, version));
            return;
        }

        try
        {
            var block = new RowBlock(model.Signature, count);
            var index = 0;
            foreach (var instance in instances.EnumerateArray())
            {
                block.AddInstance(instance, index++);
            }

            var answers = await predictions.PredictAsync(model, block);
            var writer = JsonResponses.Begin(response, StatusCodes.Status200OK);
            writer.WriteStartObject();
            writer.WritePropertyName("predictions"u8);
            writer.WriteStartArray();
            var keys = block.Keys;
            for (var r = 0; r < answers.Length; r++)
            {
                answers[r].WriteTf(writer, keys?[r]);
            }

            writer.WriteEndArray();
            writer.WriteString("model_version"u8, model.VersionText);
            writer.WriteEndObject();
            await JsonResponses.CompleteAsync(response, writer);
        }
        catch (PredictionInputException e)
        {
            await JsonResponses.ErrorAsync(response, StatusCodes.Status400BadRequest, e.Message);
        }
        catch (ServingOverloadedException e)
        {
            await JsonResponses.ErrorAsync(response, StatusCodes.Status503ServiceUnavailable, $"{e.Message}; retry later", predictions.Options.RetryAfterSeconds);
        }
        finally
        {
            model.Release();
        }
    }

    /// <summary>TF Serving's model status, with what this replica adds under <c>ctm</c>: path, cache, batching, canary, shadow, failure.</summary>
    public static IResult Status(string name, int? version, ModelCatalog catalog)
    {
        var slot = catalog.Find(name);
        var versions = new List<object>();
        foreach (var (model, role) in new[] { (slot?.Primary, "primary"), (slot?.Canary, "canary"), (slot?.Shadow, "shadow") })
        {
            if (model is not null && (version is null || model.Version == version))
            {
                versions.Add(new { version = model.VersionText, state = "AVAILABLE", status = new { error_code = "OK", error_message = "" }, role });
            }
        }

        // A refused version is listed as TF Serving lists a servable that failed: state END with the error.
        if (slot?.LastFailure is { } f && (version is null || f.Version == version) && (slot.Primary is null || f.At > slot.Primary.LoadedAt))
        {
            var code = f.Kind == "hash-mismatch" ? "DATA_LOSS" : "INVALID_ARGUMENT";
            versions.Add(new { version = f.Version.ToString(CultureInfo.InvariantCulture), state = "END", status = new { error_code = code, error_message = f.Reason }, role = "refused" });
        }

        if (versions.Count == 0)
        {
            return Results.Json(new { error = Predictions.NotFound(name, version) }, statusCode: StatusCodes.Status404NotFound);
        }

        return Results.Json(new
        {
            model_version_status = versions,
            ctm = slot is null ? null : Describe(slot),
        });
    }

    public static IResult List(ModelCatalog catalog) => Results.Json(catalog.Slots.OrderBy(s => s.Dataset, StringComparer.Ordinal).Select(Describe));

    public static object Describe(DatasetSlot slot) => new
    {
        name = slot.Dataset,
        version = slot.Primary?.Version,
        generation = slot.Generation,
        sha256 = slot.Primary?.Sha256,
        loadedAt = slot.Primary?.LoadedAt,
        path = slot.Primary?.Path,
        tableSize = slot.Primary?.Table?.Size,
        inputs = slot.Primary?.Session.Inputs.Select(i => i.ToString()),
        outputs = slot.Primary?.Session.Outputs.Select(o => o.ToString()),
        requests = slot.Primary?.Requests,
        rows = slot.Primary?.RowsServed,
        cache = slot.Primary is { Cache.Enabled: true } c ? new { capacity = c.Cache.Capacity, entries = c.Cache.Count, hits = c.Cache.Hits, misses = c.Cache.Misses } : null,
        batching = slot.Primary?.Batcher is { } b ? new { batches = b.Batches, rows = b.Rows, meanBatchSize = b.Batches == 0 ? 0 : (double)b.Rows / b.Batches, queued = b.Queued, rejected = b.Rejected } : null,
        canary = slot.Canary is { } canary ? new { version = canary.Version, share = slot.CanaryShare, path = canary.Path } : null,
        shadow = slot.Shadow is { } shadow ? new { version = shadow.Version, path = shadow.Path } : null,
        lastFailure = slot.LastFailure,
    };
}

/// <summary>What every protocol shares: choosing the model (pinned, canary or primary) and predicting, with statistics and shadow copies.</summary>
public sealed class Predictions(ModelCatalog catalog, IOptions<ServingOptions> options, ServingStatistics statistics, ShadowRecorder shadow, PredictorMetrics metrics)
{
    public ServingOptions Options => options.Value;

    public ValueTask<(LoadedModel? Model, ServingRole Role)> AcquireAsync(string name, int? version, CancellationToken ct) =>
        catalog.AcquireAsync(name, version, TimeSpan.FromSeconds(options.Value.UnloadWaitSeconds), ct);

    /// <exception cref="ServingOverloadedException">The model's queue is full.</exception>
    public async ValueTask<Prediction[]> PredictAsync(LoadedModel model, RowBlock block)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var answers = await model.PredictAsync(block);
        metrics.RecordPrediction(model, started);
        statistics.Observe(model, block);
        shadow.Offer(model, block, answers);
        return answers;
    }

    public static string NotFound(string name, int? version) => version is null
        ? $"Servable not found for request: Latest({name}): no version of model '{name}' is being served"
        : $"Servable not found for request: Specific({name}, {version}): version {version} of model '{name}' is not loaded (served: the promoted version, and a canary or shadow if configured)";
}
