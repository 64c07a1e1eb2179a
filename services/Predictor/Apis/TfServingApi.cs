using Ctm.ServiceDefaults.Auth;
using System.Globalization;
using System.Text.Json;
using Ctm.Onnx;
using Ctm.Predictor.Inference;
using Ctm.Predictor.Models;

namespace Ctm.Predictor.Apis;

/// <summary>
/// TensorFlow Serving's REST protocol: the row form (<c>instances</c> → <c>predictions</c>; objects keyed by feature or
/// input, or plain values for a single-input model; an optional <c>"key"</c> comes back in its prediction) and the
/// columnar form (<c>inputs</c> → <c>outputs</c>), <c>signature_name</c> "serving_default", <c>model_version</c> in
/// the answer, errors as <c>{"error": …}</c>.
/// </summary>
public static class TfServingApi
{
    public static IEndpointRouteBuilder MapTfServingApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/models/{name}:predict", (string name, HttpContext context, Predictions predictions) => PredictAsync(context, predictions, name, null)).RequireAuthorization(CtmPolicies.Read);
        app.MapPost("/v1/models/{name}/versions/{version}:predict", (string name, string version, HttpContext context, Predictions predictions) =>
            int.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var v)
                ? PredictAsync(context, predictions, name, v)
                : JsonResponses.ErrorAsync(context.Response, StatusCodes.Status400BadRequest, $"version '{version}' is not a number")).RequireAuthorization(CtmPolicies.Read);
        app.MapGet("/v1/models/{name}", (string name, ModelCatalog catalog) => Status(name, null, catalog)).RequireAuthorization(CtmPolicies.Read);
        app.MapGet("/v1/models/{name}/versions/{version:int}", (string name, int version, ModelCatalog catalog) => Status(name, version, catalog)).RequireAuthorization(CtmPolicies.Read);
        app.MapGet("/v1/models", List).RequireAuthorization(CtmPolicies.Read);
        return app;
    }

    /// <summary>The one signature an ONNX model has, under the name TF Serving gives the default.</summary>
    public const string DefaultSignature = "serving_default";

    public static async Task PredictAsync(HttpContext context, Predictions predictions, string name, int? version)
    {
        var ct = context.RequestAborted;
        using var bytes = await JsonResponses.ReadBytesAsync(context.Request, ct);
        if (await TryPredictOneAsync(context, predictions, name, version, bytes))
        {
            return;
        }

        using var body = await JsonResponses.ParseAsync(context.Request, bytes);
        if (body is null)
        {
            return;
        }

        var response = context.Response;
        var root = body.RootElement;
        var hasInstances = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("instances", out _);
        var hasInputs = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("inputs", out _);
        if (hasInstances == hasInputs)
        {
            await JsonResponses.ErrorAsync(response, StatusCodes.Status400BadRequest, hasInstances
                ? "the request has both 'instances' and 'inputs'; send one: the row form ('instances') or the columnar form ('inputs')"
                : "the request must be a JSON object with an 'instances' array (row form) or 'inputs' (columnar form)");
            return;
        }

        if (root.TryGetProperty("signature_name", out var signatureName) && (signatureName.ValueKind != JsonValueKind.String || signatureName.GetString() != DefaultSignature))
        {
            await JsonResponses.ErrorAsync(response, StatusCodes.Status400BadRequest,
                $"Serving signature name: {signatureName.GetRawText()} not found in signature def; an ONNX model has one signature, \"{DefaultSignature}\"");
            return;
        }

        var instances = hasInstances ? root.GetProperty("instances") : default;
        if (hasInstances)
        {
            var count = instances.ValueKind == JsonValueKind.Array ? instances.GetArrayLength() : -1;
            if (count <= 0 || count > predictions.Options.MaxInstancesPerRequest)
            {
                await JsonResponses.ErrorAsync(response, StatusCodes.Status400BadRequest, count < 0 ? "'instances' must be an array"
                    : count == 0 ? "'instances' is empty"
                    : $"{count} instances exceed the limit of {predictions.Options.MaxInstancesPerRequest} per request");
                return;
            }
        }

        using var lease = await predictions.AcquireAsync(name, version, ct);
        if (lease is null)
        {
            await PredictionErrors.NotFoundAsync(response, name, version);
            return;
        }

        var model = lease.Model;
        try
        {
            if (!hasInstances)
            {
                await PredictColumnarAsync(response, model, root.GetProperty("inputs"));
            }
            else if (model.Signature is { } signature && RowsFit(signature, instances))
            {
                var block = new RowBlock(signature, instances.GetArrayLength());
                var index = 0;
                foreach (var instance in instances.EnumerateArray())
                {
                    block.AddInstance(instance, index++);
                }

                await PredictRowsAsync(response, predictions, model, block);
            }
            else
            {
                await PredictInstancesAsTensorsAsync(response, model, instances);
            }
        }
        catch (Exception e) when (PredictionErrors.Answers(e))
        {
            await PredictionErrors.WriteAsync(response, e, predictions.Options);
        }
    }

    /// <summary>
    /// Whether the instances take the row path (micro-batcher, cache, statistics): objects keyed by feature, or arrays for
    /// a single [N, k] input; a multi-input model's rows stay there too, so a wrong instance gets the feature-level message.
    /// </summary>
    private static bool RowsFit(ModelSignature signature, JsonElement instances) =>
        signature.Inputs.Count > 1
        || instances.EnumerateArray().All(i => i.ValueKind == JsonValueKind.Object)
        || (signature.IsMatrix && instances.EnumerateArray().All(i => i.ValueKind == JsonValueKind.Array));

    /// <summary>
    /// One instance in the model's column order (the common online request), decoded straight from the body's bytes
    /// (<see cref="RowBlock.TryReadSingleInstance"/>) and answered as the general path would answer it; false, with nothing
    /// written, for any other request, and when no model answers at once (the general path checks the body first, then
    /// waits out a swap's gap or says that none is served).
    /// </summary>
    private static async Task<bool> TryPredictOneAsync(HttpContext context, Predictions predictions, string name, int? version, JsonResponses.RequestBody bytes)
    {
        using var lease = predictions.TryAcquire(name, version);
        if (lease?.Model is not { Signature: { } signature } model || RowBlock.TryReadSingleInstance(signature, bytes.Memory.Span) is not { } block)
        {
            return false;
        }

        try
        {
            await PredictRowsAsync(context.Response, predictions, model, block);
        }
        catch (Exception e) when (PredictionErrors.Answers(e))
        {
            await PredictionErrors.WriteAsync(context.Response, e, predictions.Options);
        }

        return true;
    }

    private static async Task PredictRowsAsync(HttpResponse response, Predictions predictions, LoadedModel model, RowBlock block)
    {
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

    /// <summary>
    /// TF Serving's row form on whole tensors: each input is the instances' values stacked along a new first dimension
    /// (named: objects keyed by input name; unnamed: plain values or lists, for a single-input model); each prediction
    /// is row i of every output (one output: its value; several: an object by output name).
    /// </summary>
    private static async Task PredictInstancesAsTensorsAsync(HttpResponse response, LoadedModel model, JsonElement instances)
    {
        var inputs = model.Session.Inputs;
        var count = instances.GetArrayLength();
        var objects = instances.EnumerateArray().Count(i => i.ValueKind == JsonValueKind.Object && !IsBinary(i));
        var feeds = new Dictionary<string, OrtTensor>(StringComparer.Ordinal);
        string?[]? keys = null;
        if (objects == count)
        {
            var known = inputs.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
            var index = 0;
            foreach (var instance in instances.EnumerateArray())
            {
                foreach (var field in instance.EnumerateObject())
                {
                    if (field.Name == RowBlock.KeyField && !known.Contains(field.Name))
                    {
                        (keys ??= new string?[count])[index] = field.Value.GetRawText();
                    }
                    else if (!known.Contains(field.Name))
                    {
                        throw new PredictionInputException($"instance {index} has '{field.Name}', which is not an input of the model (its inputs: {string.Join(", ", inputs)})");
                    }
                }

                index++;
            }

            foreach (var input in inputs)
            {
                var rows = new List<JsonElement>(count);
                var r = 0;
                foreach (var instance in instances.EnumerateArray())
                {
                    rows.Add(instance.TryGetProperty(input.Name, out var value)
                        ? value
                        : throw new PredictionInputException($"instance {r} is missing the input '{input.Name}' ({input})"));
                    r++;
                }

                feeds[input.Name] = TensorJson.Stack(rows, input.ElementType, input.Name);
            }
        }
        else if (objects > 0)
        {
            throw new PredictionInputException("the instances mix JSON objects (named inputs) with plain values (an unnamed input); send one kind");
        }
        else if (inputs.Count != 1)
        {
            throw new PredictionInputException(
                $"plain-value instances need a model with one input; this one has {inputs.Count}: send each instance as a JSON object keyed by feature name ({string.Join(", ", inputs.Select(i => i.Name))})");
        }
        else
        {
            feeds[inputs[0].Name] = TensorJson.Stack([.. instances.EnumerateArray()], inputs[0].ElementType, inputs[0].Name);
        }

        var names = model.Session.Outputs.Where(o => o.IsTensor).Select(o => o.Name).ToArray();
        var results = model.RunTensors(feeds, names);
        for (var o = 0; o < results.Count; o++)
        {
            if (results[o].Shape.Length == 0 || results[o].Shape[0] != count)
            {
                throw new PredictionInputException(
                    $"output '{names[o]}' has shape {TensorJson.Format(results[o].Shape)}, not one row per instance ({count}); send the columnar form {{\"inputs\": …}} to get whole tensors");
            }
        }

        var writer = JsonResponses.Begin(response, StatusCodes.Status200OK);
        writer.WriteStartObject();
        writer.WritePropertyName("predictions"u8);
        writer.WriteStartArray();
        for (var r = 0; r < count; r++)
        {
            if (results.Count == 1 && keys?[r] is null)
            {
                TensorJson.WriteRow(writer, results[0], r);
                continue;
            }

            writer.WriteStartObject();
            if (keys?[r] is { } key)
            {
                writer.WritePropertyName("key"u8);
                writer.WriteRawValue(key, skipInputValidation: true);
            }

            for (var o = 0; o < results.Count; o++)
            {
                writer.WritePropertyName(names[o]);
                TensorJson.WriteRow(writer, results[o], r);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteString("model_version"u8, model.VersionText);
        writer.WriteEndObject();
        await JsonResponses.CompleteAsync(response, writer);
    }

    /// <summary>
    /// TF Serving's columnar form: <c>inputs</c> an object of input name → value (nested lists), or a bare value for a
    /// single-input model; the answer's <c>outputs</c> is the output's value, or an object by output name if there are several.
    /// </summary>
    private static async Task PredictColumnarAsync(HttpResponse response, LoadedModel model, JsonElement inputs)
    {
        var modelInputs = model.Session.Inputs;
        var feeds = new Dictionary<string, OrtTensor>(StringComparer.Ordinal);
        if (inputs.ValueKind == JsonValueKind.Object && !IsBinary(inputs))
        {
            foreach (var field in inputs.EnumerateObject())
            {
                var input = modelInputs.FirstOrDefault(i => i.Name == field.Name)
                    ?? throw new PredictionInputException($"'inputs' has '{field.Name}', which is not an input of the model (its inputs: {string.Join(", ", modelInputs)})");
                feeds[input.Name] = TensorJson.FromNested(field.Value, input.ElementType, input.Name);
            }
        }
        else if (modelInputs.Count != 1)
        {
            throw new PredictionInputException(
                $"an unnamed 'inputs' value needs a model with one input; this one has {modelInputs.Count}: send an object keyed by input name ({string.Join(", ", modelInputs.Select(i => i.Name))})");
        }
        else
        {
            feeds[modelInputs[0].Name] = TensorJson.FromNested(inputs, modelInputs[0].ElementType, modelInputs[0].Name);
        }

        var names = model.Session.Outputs.Where(o => o.IsTensor).Select(o => o.Name).ToArray();
        var results = model.RunTensors(feeds, names);
        var writer = JsonResponses.Begin(response, StatusCodes.Status200OK);
        writer.WriteStartObject();
        writer.WritePropertyName("outputs"u8);
        if (results.Count == 1)
        {
            TensorJson.WriteNested(writer, results[0]);
        }
        else
        {
            writer.WriteStartObject();
            for (var o = 0; o < results.Count; o++)
            {
                writer.WritePropertyName(names[o]);
                TensorJson.WriteNested(writer, results[o]);
            }

            writer.WriteEndObject();
        }

        writer.WriteString("model_version"u8, model.VersionText);
        writer.WriteEndObject();
        await JsonResponses.CompleteAsync(response, writer);
    }

    /// <summary>TF Serving's encoding of a binary value: <c>{"b64": "…"}</c>.</summary>
    private static bool IsBinary(JsonElement value) =>
        value.ValueKind == JsonValueKind.Object && value.TryGetProperty("b64", out _) && value.EnumerateObject().Count() == 1;

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
