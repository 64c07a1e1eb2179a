using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Ctm.Onnx;

namespace Ctm.Predictor.Tests;

/// <summary>
/// Models trained elsewhere and registered with no data stream, served over the Open Inference Protocol and both forms of
/// TF Serving REST; every answer is compared with ONNX Runtime's own (an <see cref="OnnxSession"/> in the test) and, for
/// PyTorch's models, with torch's recorded outputs.
/// </summary>
[Collection(PredictorCollection.Name)]
public sealed class AnyModelTests(PredictorFixture system)
{
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Fixtures");

    [Fact]
    public async Task EveryElementType_RanksOneToFour_OverBothProtocols_EqualOnnxRuntime()
    {
        var model = AnyModels.AllTypes();
        using var predictor = await ServeAsync("all-types", model);
        using var session = OnnxSession.Create(model);
        var feeds = AnyModels.Typed.ToDictionary(t => t.Name, t => OrtTensor.FromArray(t.Type, AnyModels.Values(t.Type, (int)t.Shape.Aggregate(1L, (a, d) => a * d)), t.Shape));
        var expected = session.Run(feeds).Select((t, i) => (Name: session.Outputs[i].Name, Tensor: t)).ToDictionary(x => x.Name, x => x.Tensor);

        var metadata = await predictor.GetFromJsonAsync<JsonElement>("v2/models/all-types");
        Assert.Equal("onnxruntime_onnx", metadata.GetProperty("platform").GetString());
        var f16 = metadata.GetProperty("inputs").EnumerateArray().Single(i => i.GetProperty("name").GetString() == "f16");
        Assert.Equal("FP16", f16.GetProperty("datatype").GetString());
        Assert.Equal([2, -1], f16.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));

        var request = new
        {
            id = "types-1",
            inputs = AnyModels.Typed.Select(t => new { name = t.Name, datatype = t.Datatype, shape = t.Shape, data = Json(feeds[t.Name]) }),
        };
        var body = await PostOkAsync(predictor, "v2/models/all-types/infer", request);
        Assert.Equal("types-1", body.GetProperty("id").GetString());
        foreach (var (name, _, datatype, _, shape) in AnyModels.Typed)
        {
            var output = body.GetProperty("outputs").EnumerateArray().Single(o => o.GetProperty("name").GetString() == name + "_out");
            Assert.Equal(datatype, output.GetProperty("datatype").GetString());
            Assert.Equal(shape, output.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
            AssertEqual(expected[name + "_out"], output.GetProperty("data"), 0);
        }

        // Only the outputs asked for, in that order, through a pinned version.
        var selected = await PostOkAsync(predictor, "v2/models/all-types/versions/1/infer", new
        {
            inputs = request.inputs,
            outputs = new[] { new { name = "text_out" }, new { name = "u64_out" } },
        });
        Assert.Equal(["text_out", "u64_out"], selected.GetProperty("outputs").EnumerateArray().Select(o => o.GetProperty("name").GetString()));

        // TF Serving's columnar form: nested lists in, nested lists out, by name.
        var columnar = await PostOkAsync(predictor, "v1/models/all-types:predict", new
        {
            signature_name = "serving_default",
            inputs = AnyModels.Typed.ToDictionary(t => t.Name, t => Nested(feeds[t.Name])),
        });
        foreach (var (name, _, _, _, shape) in AnyModels.Typed)
        {
            var value = columnar.GetProperty("outputs").GetProperty(name + "_out");
            Assert.Equal(shape, ShapeOf(value));
            AssertEqual(expected[name + "_out"], value, 0);
        }

        // Errors: the protocol's form, the problem named.
        await AssertErrorAsync(predictor, "v2/models/all-types/infer", new { inputs = request.inputs.Select(i => i.name == "f32" ? i with { shape = [2, 3, 2, 3] } : i) },
            HttpStatusCode.BadRequest, "holds 36 elements");
        await AssertErrorAsync(predictor, "v2/models/all-types/infer", new { inputs = request.inputs.Select(i => i.name == "i8" ? i with { datatype = "INT16" } : i) },
            HttpStatusCode.BadRequest, "Input 'i8' expects element type Int8, but the tensor is Int16");
        await AssertErrorAsync(predictor, "v2/models/all-types/infer", new { inputs = request.inputs.Select(i => i.name == "i32" ? i with { shape = [3], data = new object[] { 1, 2, 3 } } : i) },
            HttpStatusCode.BadRequest, "Input 'i32' expects dimension 0 to be 4");
        await AssertErrorAsync(predictor, "v2/models/all-types/infer", new { inputs = request.inputs.Select(i => i.name == "u8" ? i with { data = Enumerable.Repeat<object>(300, 12).ToArray() } : i) },
            HttpStatusCode.BadRequest, "element 0 of input 'u8' (UINT8) must be an integer from 0 to 255, got 300");
        await AssertErrorAsync(predictor, "v2/models/all-types/infer", new { inputs = request.inputs.Where(i => i.name != "flag") }, HttpStatusCode.BadRequest, "Missing input 'flag'");
        await AssertErrorAsync(predictor, "v2/models/all-types/infer", new { inputs = request.inputs, outputs = new[] { new { name = "nope" } } }, HttpStatusCode.BadRequest, "Unknown output 'nope'");
        await AssertErrorAsync(predictor, "v2/models/all-types/infer", new { inputs = request.inputs, parameters = new { binary_data_output = true } }, HttpStatusCode.BadRequest, "binary_data_output");
        await AssertErrorAsync(predictor, "v1/models/all-types:predict", new { signature_name = "classify", inputs = new { f32 = 1 } }, HttpStatusCode.BadRequest, "\"classify\" not found in signature def");
        await AssertErrorAsync(predictor, "v1/models/all-types:predict", new { instances = new[] { 1.0 } }, HttpStatusCode.BadRequest, "need a model with one input; this one has 13");
    }

    [Fact]
    public async Task StringOperators_ComeBackAsBytes_AndARunTimeFailureIsA400WithOnnxRuntimesMessage()
    {
        var strings = AnyModels.Strings();
        using var predictor = await ServeAsync("strings", strings);
        using var session = OnnxSession.Create(strings);
        var words = new[] { "Grüße", "mixed Case", "" };
        var codes = new[] { "r", "g", "x", "r" };
        var expected = session.Run(new Dictionary<string, OrtTensor> { ["words"] = OrtTensor.FromString(words, 3), ["codes"] = OrtTensor.FromString(codes, 2, 2) });
        Assert.Equal(["GRÜSSE", "MIXED CASE", ""], expected[0].AsString().Select(s => s.Replace("ß", "SS", StringComparison.Ordinal)));

        var body = await PostOkAsync(predictor, "v2/models/strings/infer", new
        {
            inputs = new object[]
            {
                new { name = "words", datatype = "BYTES", shape = new[] { 3 }, data = words },
                new { name = "codes", datatype = "BYTES", shape = new[] { 2, 2 }, data = new[] { new[] { "r", "g" }, new[] { "x", "r" } } },
            },
        });
        var upper = Output(body, "upper");
        Assert.Equal("BYTES", upper.GetProperty("datatype").GetString());
        Assert.Equal(expected[0].AsString(), upper.GetProperty("data").EnumerateArray().Select(x => x.GetString()));
        Assert.Equal(["red", "green", "unknown", "red"], Output(body, "names").GetProperty("data").EnumerateArray().Select(x => x.GetString()));
        Assert.Equal([2, 2], Output(body, "names").GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()));

        // TF Serving rows do not fit a model whose output 'names' has no row per instance: the error says to use the columnar form.
        await AssertErrorAsync(predictor, "v1/models/strings:predict", new { instances = new[] { new { words = "a", codes = new[] { "r", "g" } } } },
            HttpStatusCode.BadRequest, "Input 'codes' expects dimension 0 to be 2");

        var failing = AnyModels.FailsAtRun();
        using var failPredictor = await ServeAsync("fails-at-run", failing);
        var one = await PostOkAsync(failPredictor, "v2/models/fails-at-run/infer", new { inputs = new[] { new { name = "x", datatype = "FP32", shape = new[] { 1, 4 }, data = new[] { 1f, 2, 3, 4 } } } });
        Assert.Equal([1.0, 2, 3, 4], Output(one, "y").GetProperty("data").EnumerateArray().Select(x => x.GetDouble()));
        using var failSession = OnnxSession.Create(failing);
        var ortError = Assert.Throws<OnnxRuntimeException>(() => failSession.Run(new Dictionary<string, OrtTensor> { ["x"] = OrtTensor.FromFloat(new float[8], 2, 4) }));
        var reshape = ortError.Message.Contains("Reshape", StringComparison.Ordinal) ? "Reshape" : ortError.Message[..Math.Min(40, ortError.Message.Length)];
        await AssertErrorAsync(failPredictor, "v2/models/fails-at-run/infer", new { inputs = new[] { new { name = "x", datatype = "FP32", shape = new[] { 2, 4 }, data = new float[8] } } },
            HttpStatusCode.BadRequest, reshape);
        await AssertErrorAsync(failPredictor, "v1/models/fails-at-run:predict", new { inputs = new { x = new[] { new float[4], new float[4] } } }, HttpStatusCode.BadRequest, reshape);
        Assert.Contains("ONNX Runtime cannot run fails-at-run v1 on these inputs", await ErrorAsync(failPredictor, "v1/models/fails-at-run:predict", new { instances = new[] { new float[4], new float[4] } }), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("torch_conv")]
    [InlineData("torch_sequence")]
    [InlineData("torch_tokens")]
    [InlineData("torch_fixed")]
    public async Task PyTorchExports_OverBothProtocolsAndBothTfForms_EqualTorchAndOnnxRuntime(string name)
    {
        var bytes = await File.ReadAllBytesAsync(Path.Combine(Fixtures, name + ".onnx"));
        var record = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(Fixtures, name + ".json"))).RootElement;
        var modelName = name.Replace('_', '-');
        using var predictor = await ServeAsync(modelName, bytes);
        using var session = OnnxSession.Create(bytes);
        var feeds = record.GetProperty("inputs").EnumerateObject().ToDictionary(i => i.Name, i => FromRecord(i.Value));
        var ort = session.Run(feeds).Select((t, i) => (session.Outputs[i].Name, t)).ToDictionary(x => x.Name, x => x.t);
        var torch = record.GetProperty("outputs");

        // ONNX Runtime agrees with torch; the Predictor agrees with both.
        foreach (var output in torch.EnumerateObject())
        {
            AssertEqual(ort[output.Name], output.Value.GetProperty("data"), 1e-4);
        }

        var oip = await PostOkAsync(predictor, $"v2/models/{modelName}/infer", new
        {
            inputs = feeds.Select(f => new { name = f.Key, datatype = Datatype(f.Value.ElementType), shape = f.Value.Shape, data = Json(f.Value) }),
        });
        foreach (var output in torch.EnumerateObject())
        {
            var answer = Output(oip, output.Name);
            Assert.Equal(output.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()), answer.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
            AssertEqual(ort[output.Name], answer.GetProperty("data"), 1e-6);
            AssertEqual(ort[output.Name], output.Value.GetProperty("data"), 1e-4);
        }

        var columnar = await PostOkAsync(predictor, $"v1/models/{modelName}:predict", new { inputs = feeds.ToDictionary(f => f.Key, f => Nested(f.Value)) });
        foreach (var output in torch.EnumerateObject())
        {
            var value = torch.EnumerateObject().Count() == 1 ? columnar.GetProperty("outputs") : columnar.GetProperty("outputs").GetProperty(output.Name);
            AssertEqual(ort[output.Name], value, 1e-6);
        }

        if (name == "torch_fixed")
        {
            // a [2, 5] and b [3] share no row dimension: the row form cannot stack them; a wrong fixed dimension is named.
            await AssertErrorAsync(predictor, $"v2/models/{modelName}/infer", new
            {
                inputs = feeds.Select(f => new { name = f.Key, datatype = "FP32", shape = f.Key == "a" ? new long[] { 3, 5 } : f.Value.Shape, data = f.Key == "a" ? new float[15] : (float[])f.Value.Data }),
            }, HttpStatusCode.BadRequest, "Input 'a' expects dimension 0 to be 2");
            return;
        }

        // The row form, named: one object per row of the first dimension; each prediction is that row of every output.
        var rows = (int)feeds.First().Value.Shape[0];
        var named = await PostOkAsync(predictor, $"v1/models/{modelName}:predict", new
        {
            instances = Enumerable.Range(0, rows).Select(r => feeds.ToDictionary(f => f.Key, f => Row(f.Value, r))),
        });
        var predictions = named.GetProperty("predictions").EnumerateArray().ToList();
        Assert.Equal(rows, predictions.Count);
        foreach (var output in torch.EnumerateObject())
        {
            var width = (int)(ort[output.Name].ElementCount / rows);
            for (var r = 0; r < rows; r++)
            {
                AssertEqual(Slice(ort[output.Name], r * width, width), predictions[r].GetProperty(output.Name), 1e-6);
            }
        }

        if (feeds.Count == 1)
        {
            // Unnamed: a single-input model takes plain lists as instances.
            var unnamed = await PostOkAsync(predictor, $"v1/models/{modelName}:predict", new { instances = Enumerable.Range(0, rows).Select(r => Row(feeds.First().Value, r)) });
            Assert.Equal(named.GetProperty("predictions").GetRawText(), unnamed.GetProperty("predictions").GetRawText());
        }

        if (name == "torch_sequence")
        {
            // A symbolic time dimension of another length than exported.
            var longer = OrtTensor.FromFloat([.. Enumerable.Range(0, 2 * 7 * 5).Select(i => MathF.Sin(i))], 2, 7, 5);
            var again = await PostOkAsync(predictor, $"v2/models/{modelName}/infer", new { inputs = new[] { new { name = "steps", datatype = "FP32", shape = longer.Shape, data = Json(longer) } } });
            var expected = session.Run(new Dictionary<string, OrtTensor> { ["steps"] = longer });
            Assert.Equal([2, 7, 2], Output(again, "per_step").GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
            AssertEqual(expected[0], Output(again, "per_step").GetProperty("data"), 1e-6);
        }
    }

    [Fact]
    public async Task NoDataStream_RegisteredExternal_ListedInTheRepositoryIndex_AndServerEndpointsAnswer()
    {
        using var predictor = await ServeAsync("standalone", AnyModels.FailsAtRun());
        using var registry = system.Client("Registry");
        var models = await registry.GetFromJsonAsync<JsonElement>("v1/models");
        var standalone = models.EnumerateArray().Single(m => m.GetProperty("name").GetString() == "standalone");
        Assert.False(standalone.GetProperty("dataStream").GetBoolean());
        Assert.Equal("external", standalone.GetProperty("origin").GetString());
        Assert.Equal(1, standalone.GetProperty("servingVersion").GetInt32());
        var lineage = await registry.GetFromJsonAsync<JsonElement>("v1/datasets/standalone/versions/1/lineage");
        Assert.Equal("external", lineage.GetProperty("origin").GetString());

        // Mapping onto features needs a data stream.
        using var content = new ByteArrayContent(AnyModels.FailsAtRun());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        var mapped = await registry.PostAsync("v1/datasets/standalone-mapped/versions?operator=tests&inputMapping=" + Uri.EscapeDataString("x=tenure"), content);
        Assert.Equal(HttpStatusCode.Conflict, mapped.StatusCode);
        Assert.Contains("no data stream", await mapped.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var index = await (await predictor.PostAsJsonAsync("v2/repository/index", new { })).EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();
        var entry = index.EnumerateArray().Single(m => m.GetProperty("name").GetString() == "standalone");
        Assert.Equal("READY", entry.GetProperty("state").GetString());
        Assert.Equal("1", entry.GetProperty("version").GetString());
        Assert.Equal(HttpStatusCode.OK, (await predictor.GetAsync("v2/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await predictor.GetAsync("v2/health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await predictor.GetAsync("v2/models/standalone/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await predictor.GetAsync("v2/models/standalone/versions/1")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await predictor.GetAsync("v2/models/standalone/versions/2")).StatusCode);
        var server = await predictor.GetFromJsonAsync<JsonElement>("v2");
        Assert.False(string.IsNullOrEmpty(server.GetProperty("name").GetString()));
    }

    private async Task<HttpClient> ServeAsync(string name, byte[] model)
    {
        using var registry = system.Client("Registry");
        using var content = new ByteArrayContent(model);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        var response = await registry.PostAsync($"v1/datasets/{name}/versions?operator=tests&source=AnyModelTests", content);
        Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var predictor = system.Client("Predictor");
        await system.WaitServedAsync(predictor, name, 1);
        return predictor;
    }

    private static OrtTensor FromRecord(JsonElement t)
    {
        var shape = t.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
        var data = t.GetProperty("data").EnumerateArray();
        return t.GetProperty("dtype").GetString() switch
        {
            "float32" => OrtTensor.FromFloat([.. data.Select(x => x.GetSingle())], shape),
            "int64" => OrtTensor.FromInt64([.. data.Select(x => x.GetInt64())], shape),
            "bool" => OrtTensor.FromBool([.. data.Select(x => x.GetBoolean())], shape),
            var other => throw new InvalidOperationException($"dtype {other}"),
        };
    }

    private static string Datatype(TensorElementType type) => AnyModels.Typed.First(t => t.Type == type).Datatype;

    /// <summary>A tensor's elements as JSON-friendly values (bytes as numbers, not base64; half as float).</summary>
    private static object?[] Json(OrtTensor t) => t.Data switch
    {
        Half[] h => [.. h.Select(x => (object)(float)x)],
        var a => [.. a.Cast<object?>()],
    };

    private static object Nested(OrtTensor t)
    {
        var flat = Json(t);
        var index = 0;
        object Build(int dim)
        {
            if (dim == t.Shape.Length)
            {
                return flat[index++]!;
            }

            var list = new List<object>();
            for (var i = 0; i < t.Shape[dim]; i++)
            {
                list.Add(Build(dim + 1));
            }

            return list;
        }

        return Build(0);
    }

    private static object Row(OrtTensor t, int row)
    {
        var nested = (List<object>)Nested(t);
        return nested[row];
    }

    private static OrtTensor Slice(OrtTensor t, int start, int count)
    {
        var array = Array.CreateInstance(t.Data.GetType().GetElementType()!, count);
        Array.Copy(t.Data, start, array, 0, count);
        return OrtTensor.FromArray(t.ElementType, array, count);
    }

    private static long[] ShapeOf(JsonElement value)
    {
        var shape = new List<long>();
        while (value.ValueKind == JsonValueKind.Array)
        {
            shape.Add(value.GetArrayLength());
            value = value[0];
        }

        return [.. shape];
    }

    /// <summary>Compares every element (JSON flat or nested) with ONNX Runtime's tensor: exact for integers, bools and strings, within <paramref name="tolerance"/> for floats.</summary>
    private static void AssertEqual(OrtTensor expected, JsonElement actual, double tolerance)
    {
        var values = new List<JsonElement>();
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

        Walk(actual);
        Assert.Equal(expected.ElementCount, values.Count);
        for (var i = 0; i < values.Count; i++)
        {
            var e = expected.Data.GetValue(i);
            switch (e)
            {
                case float or double or Half:
                    var x = Convert.ToDouble(e is Half h ? (float)h : e, CultureInfo.InvariantCulture);
                    Assert.True(Math.Abs(x - values[i].GetDouble()) <= tolerance * Math.Max(1, Math.Abs(x)), $"element {i}: expected {x}, got {values[i].GetRawText()}");
                    break;
                case bool b:
                    Assert.Equal(b, values[i].GetBoolean());
                    break;
                case string s:
                    Assert.Equal(s, values[i].GetString());
                    break;
                default:
                    Assert.Equal(Convert.ToString(e, CultureInfo.InvariantCulture), values[i].GetRawText());
                    break;
            }
        }
    }

    private static JsonElement Output(JsonElement body, string name) =>
        body.GetProperty("outputs").EnumerateArray().Single(o => o.GetProperty("name").GetString() == name);

    private static async Task<JsonElement> PostOkAsync(HttpClient client, string url, object body)
    {
        var response = await client.PostAsJsonAsync(url, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static async Task<string> ErrorAsync(HttpClient client, string url, object body)
    {
        var response = await client.PostAsJsonAsync(url, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{url}: expected 400, got {response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("error").GetString()!;
    }

    private static async Task AssertErrorAsync(HttpClient client, string url, object body, HttpStatusCode status, string contains)
    {
        var response = await client.PostAsJsonAsync(url, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{url}: expected {status}, got {response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(contains, JsonDocument.Parse(text).RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
    }
}
