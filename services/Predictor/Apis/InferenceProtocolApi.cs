using Ctm.ServiceDefaults.Auth;
using System.Text.Json;
using Ctm.Onnx;
using Ctm.Predictor.Inference;
using Ctm.Predictor.Models;

namespace Ctm.Predictor.Apis;

/// <summary>
/// The Open Inference Protocol (KServe v2, as spoken by Triton and MLServer): tensors in, one per model input, any rank
/// and element type, by the model's input names; tensors out (all, or those named in <c>outputs</c>); an extra BYTES
/// input named <c>key</c> carries example keys and comes back as an output. Models whose inputs are rows
/// (<c>[N]</c>/<c>[N, k]</c>) go through the micro-batcher and cache; every other model runs on the tensors as sent.
/// Errors as <c>{"error": …}</c>: 400 (the request, with ONNX Runtime's message), 404, 503, 500 (a fault, with its message).
/// </summary>
public static class InferenceProtocolApi
{
    public static IEndpointRouteBuilder MapInferenceProtocolApi(this IEndpointRouteBuilder app)
    {
        var v2 = app.MapGroup("/v2").RequireAuthorization(CtmPolicies.Read);
        v2.MapGet("/", () => Results.Json(new { name = "ctm-predictor", version = "1", extensions = Array.Empty<string>() }));
        // The protocol's probes are anonymous like /health/*: an orchestrator holds no key.
        v2.MapGet("/health/live", () => Results.Json(new { live = true })).AllowAnonymous();
        v2.MapGet("/health/ready", (ModelCatalog catalog) => catalog.InitialLoadCompleted
            ? Results.Json(new { ready = true })
            : Results.Json(new { ready = false, error = "the serving versions have not been loaded yet" }, statusCode: StatusCodes.Status503ServiceUnavailable)).AllowAnonymous();
        v2.MapGet("/models/{name}", (string name, ModelCatalog catalog) => Metadata(name, null, catalog));
        v2.MapGet("/models/{name}/versions/{version:int}", (string name, int version, ModelCatalog catalog) => Metadata(name, version, catalog));
        v2.MapGet("/models/{name}/ready", (string name, ModelCatalog catalog) => Ready(name, null, catalog));
        v2.MapGet("/models/{name}/versions/{version:int}/ready", (string name, int version, ModelCatalog catalog) => Ready(name, version, catalog));
        v2.MapPost("/repository/index", RepositoryIndexAsync).RequireAuthorization(CtmPolicies.Read);
        v2.MapGet("/repository/index", RepositoryIndexAsync);
        v2.MapPost("/models/{name}/infer", (string name, HttpContext context, Predictions predictions) => InferAsync(context, predictions, name, null)).RequireAuthorization(CtmPolicies.Read);
        v2.MapPost("/models/{name}/versions/{version:int}/infer", (string name, int version, HttpContext context, Predictions predictions) => InferAsync(context, predictions, name, version)).RequireAuthorization(CtmPolicies.Read);
        return app;
    }

    public static IResult Ready(string name, int? version, ModelCatalog catalog)
    {
        using var lease = catalog.Acquire(name, version);
        return lease is null
            ? Results.Json(new { error = Predictions.NotFound(name, version) }, statusCode: StatusCodes.Status404NotFound)
            : Results.Json(new { name, ready = true });
    }

    /// <summary>Model metadata as the protocol defines it: inputs and outputs with datatype and shape (-1 for a symbolic dimension).</summary>
    public static IResult Metadata(string name, int? version, ModelCatalog catalog)
    {
        using var lease = catalog.Acquire(name, version);
        if (lease is null)
        {
            return Results.Json(new { error = Predictions.NotFound(name, version) }, statusCode: StatusCodes.Status404NotFound);
        }

        var model = lease.Model;
        var slot = catalog.Find(name)!;
        return Results.Json(new
        {
            name,
            versions = new[] { slot.Primary, slot.Canary, slot.Shadow }.OfType<LoadedModel>().Select(m => m.VersionText).Distinct(),
            platform = "onnxruntime_onnx",
            inputs = model.Signature is { } signature ? InputsByFeature(signature) : model.Session.Inputs.Select(i => new { name = i.Name, datatype = OipTypes.Name(i.ElementType), shape = i.Shape }),
            outputs = model.Session.Outputs.Where(o => o.IsTensor).Select(o => new { name = o.Name, datatype = OipTypes.Name(o.ElementType), shape = o.Shape }),
            parameters = new
            {
                path = model.Signature is null ? "tensors" : model.Path,
                version = model.VersionText,
                tensors = model.Session.Inputs.Select(i => new { name = i.Name, datatype = OipTypes.Name(i.ElementType), shape = i.Shape }),
            },
        });
    }

    /// <summary>
    /// The inputs a client sends: one [N, 1] tensor per feature for a model that packs features by type (its own column
    /// names; the packed tensors are accepted too and listed in <c>parameters.tensors</c>), the model's inputs otherwise.
    /// </summary>
    private static IEnumerable<object> InputsByFeature(ModelSignature signature) => signature.Inputs.SelectMany(i => i is { ColumnsNamedByModel: true, Fields: { } fields }
        ? fields.Select(f => (object)new { name = f, datatype = i.OipDatatype, shape = new long[] { -1, 1 } })
        : [new { name = i.Name, datatype = i.OipDatatype, shape = i.Node.Shape }]);

    /// <summary>
    /// The model repository index (Triton's <c>POST v2/repository/index</c>): every model the Registry has registered
    /// and every model this replica holds, with its version and state (READY, UNAVAILABLE with the reason).
    /// </summary>
    public static async Task<IResult> RepositoryIndexAsync(ModelCatalog catalog, ModelLoader loader, CancellationToken ct)
    {
        var entries = new SortedDictionary<string, object>(StringComparer.Ordinal);
        IReadOnlyList<RegisteredModel> registered;
        string? registryError = null;
        try
        {
            registered = await loader.ListRegisteredAsync(ct);
        }
        catch (HttpRequestException e)
        {
            registered = [];
            registryError = $"the Registry did not answer ({e.Message}); only what this replica holds is listed";
        }

        foreach (var m in registered)
        {
            entries[m.Name] = new
            {
                name = m.Name,
                version = m.ServingVersion?.ToString(System.Globalization.CultureInfo.InvariantCulture),
                state = "UNAVAILABLE",
                reason = m.ServingVersion is null ? (m.PendingVersion is { } p ? $"v{p} is promoted and waits for a replica to load it" : "no version is promoted") : "not loaded on this replica",
                versions = m.Versions,
                dataStream = m.DataStream,
            };
        }

        foreach (var slot in catalog.Slots)
        {
            var registeredModel = registered.FirstOrDefault(r => r.Name == slot.Dataset);
            if (slot.Primary is { } primary)
            {
                entries[slot.Dataset] = new { name = slot.Dataset, version = primary.VersionText, state = "READY", reason = "", versions = registeredModel?.Versions, dataStream = registeredModel?.DataStream };
            }
            else if (slot.LastFailure is { } f)
            {
                entries[slot.Dataset] = new { name = slot.Dataset, version = f.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), state = "UNAVAILABLE", reason = $"{f.Kind}: {f.Reason}", versions = registeredModel?.Versions, dataStream = registeredModel?.DataStream };
            }
        }

        if (registryError is not null)
        {
            return Results.Json(new { models = entries.Values, error = registryError });
        }

        return Results.Json(entries.Values);
    }

    public static async Task InferAsync(HttpContext context, Predictions predictions, string name, int? version)
    {
        var ct = context.RequestAborted;
        using var body = await JsonResponses.ReadAsync(context.Request, ct);
        if (body is null)
        {
            return;
        }

        var response = context.Response;
        var root = body.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("inputs", out var inputs) || inputs.ValueKind != JsonValueKind.Array)
        {
            await JsonResponses.ErrorAsync(response, StatusCodes.Status400BadRequest, "the request must be a JSON object with an 'inputs' array of tensors");
            return;
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
            CheckBinaryParameters(root);
            if (model.Signature is null)
            {
                await InferTensorsAsync(response, model, name, root, inputs);
                return;
            }

            var block = Decode(model.Signature, inputs, predictions.Options.MaxInstancesPerRequest);
            var requested = RequestedOutputs(model.Signature, root);
            var answers = await predictions.PredictAsync(model, block);
            var writer = BeginInferResponse(response, name, model, root);
            foreach (var o in requested)
            {
                WriteOutput(writer, model.Signature.Outputs[o], o, answers);
            }

            if (block.Keys is { } keys)
            {
                writer.WriteStartObject();
                writer.WriteString("name"u8, RowBlock.KeyField);
                writer.WriteString("datatype"u8, "BYTES");
                writer.WritePropertyName("shape"u8);
                writer.WriteStartArray();
                writer.WriteNumberValue(block.Count);
                writer.WriteEndArray();
                writer.WritePropertyName("data"u8);
                writer.WriteStartArray();
                for (var r = 0; r < block.Count; r++)
                {
                    if (keys[r] is { } key)
                    {
                        writer.WriteRawValue(key, skipInputValidation: true);
                    }
                    else
                    {
                        writer.WriteNullValue();
                    }
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
            await JsonResponses.CompleteAsync(response, writer);
        }
        catch (Exception e) when (PredictionErrors.Answers(e))
        {
            await PredictionErrors.WriteAsync(response, e, predictions.Options);
        }
    }

    /// <summary>
    /// A model without a row interface: the request's tensors go to ONNX Runtime as sent (any rank, fixed or symbolic
    /// dimensions, every element type), one run per request, and every output asked for comes back whole.
    /// </summary>
    private static async Task InferTensorsAsync(HttpResponse response, LoadedModel model, string name, JsonElement root, JsonElement inputs)
    {
        var feeds = new Dictionary<string, OrtTensor>(StringComparer.Ordinal);
        OrtTensor? keys = null;
        var modelInputs = model.Session.Inputs.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var tensor in inputs.EnumerateArray())
        {
            if (tensor.ValueKind != JsonValueKind.Object || !tensor.TryGetProperty("name", out var n) || n.ValueKind != JsonValueKind.String)
            {
                throw new PredictionInputException("every input tensor must be an object with a 'name'");
            }

            var tensorName = n.GetString()!;
            var decoded = TensorJson.FromOip(tensor, tensorName);
            if (tensorName == RowBlock.KeyField && !modelInputs.Contains(tensorName))
            {
                keys = decoded;
            }
            else if (!feeds.TryAdd(tensorName, decoded))
            {
                throw new PredictionInputException($"input '{tensorName}' is given twice");
            }
        }

        var outputs = RequestedOutputNames(root);
        var results = model.RunTensors(feeds, outputs);
        var names = outputs ?? [.. model.Session.Outputs.Where(o => o.IsTensor).Select(o => o.Name)];
        var writer = BeginInferResponse(response, name, model, root);
        for (var o = 0; o < results.Count; o++)
        {
            WriteTensor(writer, names[o], results[o]);
        }

        if (keys is not null)
        {
            WriteTensor(writer, RowBlock.KeyField, keys);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        await JsonResponses.CompleteAsync(response, writer);
    }

    /// <summary>
    /// Starts a 200 inference response: the model's name and version, the request's <c>id</c> echoed when it sent one,
    /// and the opened <c>outputs</c> array, which the caller fills and closes.
    /// </summary>
    private static Utf8JsonWriter BeginInferResponse(HttpResponse response, string name, LoadedModel model, JsonElement root)
    {
        var writer = JsonResponses.Begin(response, StatusCodes.Status200OK);
        writer.WriteStartObject();
        writer.WriteString("model_name"u8, name);
        writer.WriteString("model_version"u8, model.VersionText);
        if (root.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String)
        {
            writer.WriteString("id"u8, id.GetString());
        }

        writer.WritePropertyName("outputs"u8);
        writer.WriteStartArray();
        return writer;
    }

    private static void WriteTensor(Utf8JsonWriter writer, string name, OrtTensor tensor)
    {
        writer.WriteStartObject();
        writer.WriteString("name"u8, name);
        writer.WriteString("datatype"u8, OipTypes.Name(tensor.ElementType));
        writer.WritePropertyName("shape"u8);
        writer.WriteStartArray();
        foreach (var d in tensor.Shape)
        {
            writer.WriteNumberValue(d);
        }

        writer.WriteEndArray();
        writer.WritePropertyName("data"u8);
        TensorJson.WriteFlat(writer, tensor);
        writer.WriteEndObject();
    }

    /// <summary>The names in the request's <c>outputs</c>, or null (every output) when it has none.</summary>
    private static string[]? RequestedOutputNames(JsonElement root)
    {
        if (!root.TryGetProperty("outputs", out var outputs) || outputs.ValueKind != JsonValueKind.Array || outputs.GetArrayLength() == 0)
        {
            return null;
        }

        return [.. outputs.EnumerateArray().Select(o => o.ValueKind == JsonValueKind.Object && o.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String
            ? n.GetString()!
            : throw new PredictionInputException("every entry of 'outputs' must be an object with a 'name'"))];
    }

    /// <summary>The binary tensor data extension is not spoken here: a request that asks for it gets a 400 saying so, not JSON it did not ask for.</summary>
    private static void CheckBinaryParameters(JsonElement root)
    {
        if (root.TryGetProperty("parameters", out var parameters) && parameters.ValueKind == JsonValueKind.Object
            && parameters.TryGetProperty("binary_data_output", out var all) && all.ValueKind == JsonValueKind.True)
        {
            throw new PredictionInputException("parameter 'binary_data_output' is not supported: this server answers with JSON 'data' only");
        }

        if (root.TryGetProperty("outputs", out var outputs) && outputs.ValueKind == JsonValueKind.Array)
        {
            foreach (var o in outputs.EnumerateArray())
            {
                if (o.ValueKind == JsonValueKind.Object && o.TryGetProperty("parameters", out var p) && p.ValueKind == JsonValueKind.Object
                    && p.TryGetProperty("binary_data", out var binary) && binary.ValueKind == JsonValueKind.True)
                {
                    throw new PredictionInputException($"output parameter 'binary_data' is not supported (output {o.GetProperty("name").GetRawText()}): this server answers with JSON 'data' only");
                }
            }
        }
    }

    /// <summary>
    /// Turns the request's tensors into rows: every model input present once, with its datatype, shape [N] or [N, k], and
    /// N·k values. An input whose columns are named (a packed model's <c>ctm.inputs</c>, an upload's input mapping) may
    /// instead come as one [N] or [N, 1] tensor per column, named after the column's feature.
    /// </summary>
    public static RowBlock Decode(ModelSignature signature, JsonElement inputs, int maxRows)
    {
        var tensors = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var tensor in inputs.EnumerateArray())
        {
            if (tensor.ValueKind != JsonValueKind.Object || !tensor.TryGetProperty("name", out var n) || n.ValueKind != JsonValueKind.String)
            {
                throw new PredictionInputException("every input tensor must be an object with a 'name'");
            }

            var tensorName = n.GetString()!;
            if (!tensors.TryAdd(tensorName, tensor))
            {
                throw new PredictionInputException($"input '{tensorName}' is given twice");
            }

            if (tensorName != RowBlock.KeyField && !signature.Inputs.Any(i => i.Name == tensorName || (i.Fields?.Contains(tensorName) ?? false)))
            {
                throw Unexpected(signature, tensorName);
            }
        }

        var rows = -1;
        var used = new HashSet<string>(StringComparer.Ordinal) { RowBlock.KeyField };
        var columns = new List<(InputSpec Input, int Offset, int Width, List<JsonElement> Data)>();
        foreach (var input in signature.Inputs)
        {
            if (!tensors.TryGetValue(input.Name, out var tensor) && input.Fields is { } fields)
            {
                for (var c = 0; c < fields.Length; c++)
                {
                    if (!tensors.TryGetValue(fields[c], out var column))
                    {
                        throw new PredictionInputException($"missing input '{fields[c]}' ({input.OipDatatype}, shape [N] or [N, 1]), or the whole input '{input.Name}' ({input.OipDatatype}, shape {FormatShape(input.Node.Shape)}, columns {string.Join(", ", fields)})");
                    }

                    rows = Rows(input, fields[c], 1, column, rows);
                    columns.Add((input, c, 1, Data(column, fields[c], rows, 1)));
                    used.Add(fields[c]);
                }

                continue;
            }

            if (!tensors.ContainsKey(input.Name))
            {
                throw new PredictionInputException($"missing input '{input.Name}' ({input.OipDatatype}, shape {FormatShape(input.Node.Shape)})");
            }

            rows = Rows(input, input.Name, input.Width, tensor, rows);
            columns.Add((input, 0, input.Width, Data(tensor, input.Name, rows, input.Width)));
            used.Add(input.Name);
        }

        if (tensors.Keys.FirstOrDefault(t => !used.Contains(t)) is { } unused)
        {
            // A column given beside its whole input.
            throw Unexpected(signature, unused);
        }

        if (rows <= 0 || rows > maxRows)
        {
            throw new PredictionInputException(rows <= 0 ? "the inputs hold no rows" : $"{rows} rows exceed the limit of {maxRows} per request");
        }

        var block = new RowBlock(signature, rows);
        for (var r = 0; r < rows; r++)
        {
            block.AddEmptyRow();
        }

        foreach (var (input, offset, width, data) in columns)
        {
            for (var r = 0; r < rows; r++)
            {
                for (var c = 0; c < width; c++)
                {
                    block.SetCell(input, r, offset + c, data[(r * width) + c], r);
                }
            }
        }

        if (tensors.TryGetValue(RowBlock.KeyField, out var keyTensor))
        {
            var keys = Flatten(keyTensor, RowBlock.KeyField);
            if (keys.Count != rows)
            {
                throw new PredictionInputException($"input '{RowBlock.KeyField}' has {keys.Count} values for {rows} rows");
            }

            for (var r = 0; r < rows; r++)
            {
                block.SetKey(r, keys[r].GetRawText());
            }
        }

        return block;
    }

    private static PredictionInputException Unexpected(ModelSignature signature, string tensorName) =>
        new($"unexpected input '{tensorName}': the model's inputs are {string.Join(", ", signature.Inputs.Select(i => $"{i.Name} ({i.OipDatatype}{(i.Fields is { } f ? $", or per column: {string.Join(", ", f)}" : "")})"))}");

    private static int Rows(InputSpec input, string name, int width, JsonElement tensor, int rows)
    {
        var datatype = tensor.TryGetProperty("datatype", out var d) ? d.GetString() : null;
        if (datatype != input.OipDatatype)
        {
            throw new PredictionInputException($"input '{name}' has datatype {datatype ?? "(none)"}, expected {input.OipDatatype}");
        }

        var n = CheckShape(name, width, tensor);
        return rows >= 0 && n != rows ? throw new PredictionInputException($"input '{name}' has {n} rows, other inputs have {rows}") : n;
    }

    private static List<JsonElement> Data(JsonElement tensor, string name, int rows, int width)
    {
        var data = Flatten(tensor, name);
        return data.Count == rows * width ? data : throw new PredictionInputException($"input '{name}' has shape {FormatShape([rows, width])} but {data.Count} values");
    }

    private static int CheckShape(string name, int width, JsonElement tensor)
    {
        if (!tensor.TryGetProperty("shape", out var shape) || shape.ValueKind != JsonValueKind.Array || shape.GetArrayLength() is < 1 or > 2)
        {
            throw new PredictionInputException($"input '{name}' needs a shape [N] or [N, {width}]");
        }

        var dims = shape.EnumerateArray().Select(x => x.TryGetInt32(out var v) ? v : -1).ToArray();
        var ok = dims[0] >= 0 && (dims.Length == 1 ? width == 1 : dims[1] == width);
        return ok ? dims[0] : throw new PredictionInputException($"input '{name}' has shape {FormatShape([.. dims.Select(x => (long)x)])}, expected {FormatShape([-1, width])}");
    }

    private static List<JsonElement> Flatten(JsonElement tensor, string name)
    {
        if (!tensor.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
        {
            throw new PredictionInputException($"input '{name}' has no 'data' array");
        }

        var values = new List<JsonElement>(data.GetArrayLength());
        void Walk(JsonElement e)
        {
            if (e.ValueKind == JsonValueKind.Array)
            {
                foreach (var x in e.EnumerateArray())
                {
                    Walk(x);
                }
            }
            else
            {
                values.Add(e);
            }
        }

        Walk(data);
        return values;
    }

    private static int[] RequestedOutputs(ModelSignature signature, JsonElement root)
    {
        if (!root.TryGetProperty("outputs", out var outputs) || outputs.ValueKind != JsonValueKind.Array || outputs.GetArrayLength() == 0)
        {
            return [.. Enumerable.Range(0, signature.Outputs.Count)];
        }

        var indexes = new List<int>();
        foreach (var o in outputs.EnumerateArray())
        {
            var wanted = o.ValueKind == JsonValueKind.Object && o.TryGetProperty("name", out var n) ? n.GetString() : null;
            var index = signature.Outputs.ToList().FindIndex(x => x.Name == wanted);
            indexes.Add(index >= 0 ? index : throw new PredictionInputException($"unknown output '{wanted}': the model's outputs are {string.Join(", ", signature.Outputs.Select(x => x.Name))}"));
        }

        return [.. indexes];
    }

    private static void WriteOutput(Utf8JsonWriter writer, OutputSpec output, int index, Prediction[] answers)
    {
        writer.WriteStartObject();
        writer.WriteString("name"u8, output.Name);
        writer.WriteString("datatype"u8, OipTypes.Name(output.Type));
        writer.WritePropertyName("shape"u8);
        writer.WriteStartArray();
        writer.WriteNumberValue(answers.Length);
        var width = answers.Length == 0 ? 0 : answers[0].Values[index].Length;
        if (output.Node.Rank > 1)
        {
            for (var d = 1; d < output.Node.Rank; d++)
            {
                writer.WriteNumberValue(output.Node.Rank == 2 ? width : Math.Max(0, output.Node.Shape[d]));
            }
        }

        writer.WriteEndArray();
        writer.WritePropertyName("data"u8);
        writer.WriteStartArray();
        foreach (var answer in answers)
        {
            var values = answer.Values[index];
            for (var i = 0; i < values.Length; i++)
            {
                Prediction.WriteElement(writer, values, i);
            }
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static string FormatShape(long[] shape) => $"[{string.Join(", ", shape.Select(d => d < 0 ? "N" : d.ToString(System.Globalization.CultureInfo.InvariantCulture)))}]";
}
