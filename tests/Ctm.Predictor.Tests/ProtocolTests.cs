using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Ctm.Contracts;
using MassTransit;

using Ctm.Testing;

namespace Ctm.Predictor.Tests;

/// <summary>TF Serving REST and the Open Inference Protocol, example keys over HTTP and the bus, serving statistics, the static path.</summary>
[Collection(PredictorCollection.Name)]
public sealed class ProtocolTests(PredictorFixture system)
{
    [Fact]
    public async Task StaticAndDynamicPaths_AllCategoricalModel_ReturnTheSamePredictions()
    {
        const string dataset = "shapes";
        var version = await system.TrainAsync(dataset, "bought", [Data.Categorical(400, seed: 41)]);
        using var staticPredictor = system.Client("Predictor");
        var description = (await PredictorFixture.ModelAsync(staticPredictor, dataset))!.Value;
        Assert.Equal("static", description.GetProperty("path").GetString());
        Assert.True(description.GetProperty("tableSize").GetInt32() >= 4 * 4 * 3, description.ToString());

        var dynamicReplica = await system.StartPredictorReplicaAsync(new Dictionary<string, string> { ["Serving__StaticTableLimit"] = "0" });
        using var dynamicPredictor = TestKeys.Authenticate(new HttpClient { BaseAddress = dynamicReplica.BaseUrl });
        await system.WaitServedAsync(dynamicPredictor, dataset, version);
        Assert.Equal("dynamic", (await PredictorFixture.ModelAsync(dynamicPredictor, dataset))!.Value.GetProperty("path").GetString());

        // Every known value, an unseen one and a missing one of each feature.
        var instances = (
            from color in Data.Colors.Append("purple").Append(null)
            from size in Data.Sizes.Append("XXL")
            from shape in Data.Shapes.Append(null)
            select new Dictionary<string, object?> { ["color"] = color, ["size"] = size, ["shape"] = shape }).ToList();
        var fromTable = await PredictAsync(staticPredictor, dataset, instances);
        var fromOrt = await PredictAsync(dynamicPredictor, dataset, instances);
        Assert.Equal(instances.Count, fromTable.Count);
        for (var i = 0; i < instances.Count; i++)
        {
            Assert.Equal(fromOrt[i].GetProperty("label").GetString(), fromTable[i].GetProperty("label").GetString());
            foreach (var p in fromOrt[i].GetProperty("probabilities").EnumerateObject())
            {
                Assert.Equal(p.Value.GetDouble(), fromTable[i].GetProperty("probabilities").GetProperty(p.Name).GetDouble(), 6);
            }
        }

        Assert.Contains(fromTable, p => p.GetProperty("label").GetString() == "yes");
        Assert.Contains(fromTable, p => p.GetProperty("label").GetString() == "no");

        // The same through the Open Inference Protocol.
        var oip = new
        {
            inputs = new[] { "color", "size", "shape" }.Select(f => new { name = f, datatype = "BYTES", shape = new[] { instances.Count, 1 }, data = instances.Select(x => x[f]).ToArray() }),
        };
        var oipTable = await (await staticPredictor.PostAsJsonAsync($"v2/models/{dataset}/infer", oip)).EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();
        var oipOrt = await (await dynamicPredictor.PostAsJsonAsync($"v2/models/{dataset}/infer", oip)).EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(Output(oipOrt, "label").Select(x => x.GetString()), Output(oipTable, "label").Select(x => x.GetString()));
        Assert.Equal(fromTable.Select(p => p.GetProperty("label").GetString()), Output(oipTable, "label").Select(x => x.GetString()));
    }

    [Fact]
    public async Task TfServing_PredictWithKeysAndPinnedVersion_AnswersAndErrorsInItsFormat()
    {
        var version = await system.ChurnModelAsync();
        using var predictor = system.Client("Predictor");
        var instances = Data.ChurnInstances(5, seed: 3);
        object?[] keys = ["a-1", 17, null, "a-4", "a-5"];
        for (var i = 0; i < instances.Count; i++)
        {
            if (keys[i] is { } key)
            {
                instances[i]["key"] = key;
            }
        }

        var response = await predictor.PostAsJsonAsync($"v1/models/churn:predict", new { instances });
        var body = await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(PredictorFixture.Text(version), body.GetProperty("model_version").GetString());
        var predictions = body.GetProperty("predictions").EnumerateArray().ToList();
        Assert.Equal(5, predictions.Count);
        Assert.Equal("a-1", predictions[0].GetProperty("key").GetString());
        Assert.Equal(17, predictions[1].GetProperty("key").GetInt32());
        Assert.False(predictions[2].TryGetProperty("key", out _));
        Assert.Equal("a-5", predictions[4].GetProperty("key").GetString());
        Assert.All(predictions, p => Assert.Contains(p.GetProperty("label").GetString(), new[] { "yes", "no" }));
        Assert.All(predictions, p => Assert.Equal(1.0, p.GetProperty("probabilities").EnumerateObject().Sum(x => x.Value.GetDouble()), 4));

        var pinned = await predictor.PostAsJsonAsync($"v1/models/churn/versions/{version}:predict", new { instances });
        Assert.Equal(PredictorFixture.Text(version), (await pinned.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>()).GetProperty("model_version").GetString());

        var status = await predictor.GetFromJsonAsync<JsonElement>("v1/models/churn");
        Assert.Equal("AVAILABLE", status.GetProperty("model_version_status")[0].GetProperty("state").GetString());

        await AssertErrorAsync(predictor, "v1/models/no-such-model:predict", new { instances }, HttpStatusCode.NotFound, "no-such-model");
        await AssertErrorAsync(predictor, "v1/models/churn/versions/999:predict", new { instances }, HttpStatusCode.NotFound, "999");
        await AssertErrorAsync(predictor, "v1/models/churn:predict", new { instances = new[] { new[] { 1, 2, 3 } } }, HttpStatusCode.BadRequest, "JSON object keyed by feature name");
        await AssertErrorAsync(predictor, "v1/models/churn:predict", new { instances = new[] { new { tenure = "long", plan = "basic", monthly_fee = 1.0, support_calls = 1 } } }, HttpStatusCode.BadRequest, "'tenure' of instance 0 must be a number");
        await AssertErrorAsync(predictor, "v1/models/churn:predict", new { instances = new[] { new { tenure = 1, plan = new[] { "basic" , "pro" }, monthly_fee = 1.0, support_calls = 1 } } }, HttpStatusCode.BadRequest, "'plan' of instance 0 must be a string");
        await AssertErrorAsync(predictor, "v1/models/churn:predict", new { instances = new[] { new { tenure = 1, plan = "basic", support_calls = 1 } } }, HttpStatusCode.BadRequest, "missing the feature 'monthly_fee'");
        // The columnar form feeds the model's own tensors: a packed export's are one per type, named in the error.
        await AssertErrorAsync(predictor, "v1/models/churn:predict", new { inputs = new { tenure = 1 } }, HttpStatusCode.BadRequest, "'inputs' has 'tenure', which is not an input of the model (its inputs: ctm/numeric");
        await AssertErrorAsync(predictor, "v1/models/churn:predict", new { inputs = new Dictionary<string, object> { ["ctm/numeric"] = 1, ["ctm/categorical"] = new[] { new[] { "basic" } } } }, HttpStatusCode.BadRequest, "Input 'ctm/numeric' expects rank 2");
        await AssertErrorAsync(predictor, "v1/models/churn:predict", new { signature_name = "predict", instances }, HttpStatusCode.BadRequest, "not found in signature def");
        using var notJson = new StringContent("{not json", Encoding.UTF8, "application/json");
        var bad = await predictor.PostAsync("v1/models/churn:predict", notJson);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("not valid JSON", (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenInferenceProtocol_InferWithKeys_MatchesTfServing_AndErrorsInItsFormat()
    {
        var version = await system.ChurnModelAsync();
        using var predictor = system.Client("Predictor");
        Assert.Equal(HttpStatusCode.OK, (await predictor.GetAsync("v2/health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await predictor.GetAsync("v2/models/churn/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await predictor.GetAsync("v2/models/no-such-model/ready")).StatusCode);
        var metadata = await predictor.GetFromJsonAsync<JsonElement>("v2/models/churn");
        Assert.Contains(metadata.GetProperty("inputs").EnumerateArray(), i => i.GetProperty("name").GetString() == "plan" && i.GetProperty("datatype").GetString() == "BYTES");
        Assert.Contains(metadata.GetProperty("inputs").EnumerateArray(), i => i.GetProperty("name").GetString() == "tenure" && i.GetProperty("datatype").GetString() == "FP32");

        var instances = Data.ChurnInstances(4, seed: 9);
        var request = Tensors(instances, includeKeys: true);
        var response = await predictor.PostAsJsonAsync("v2/models/churn/infer", request);
        var body = await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("churn", body.GetProperty("model_name").GetString());
        Assert.Equal(PredictorFixture.Text(version), body.GetProperty("model_version").GetString());
        Assert.Equal("req-1", body.GetProperty("id").GetString());
        Assert.Equal(["k0", "k1", "k2", "k3"], Output(body, "key").Select(k => k.GetString()));
        var probabilities = body.GetProperty("outputs").EnumerateArray().Single(o => o.GetProperty("name").GetString() == "probabilities");
        Assert.Equal([4, 2], probabilities.GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()));
        Assert.Equal("FP32", probabilities.GetProperty("datatype").GetString());

        var tf = await PredictAsync(predictor, "churn", instances);
        Assert.Equal(tf.Select(p => p.GetProperty("label").GetString()), Output(body, "label").Select(x => x.GetString()));

        var pinned = await predictor.PostAsJsonAsync($"v2/models/churn/versions/{version}/infer", Tensors(instances, includeKeys: false));
        Assert.Equal(HttpStatusCode.OK, pinned.StatusCode);

        await AssertErrorAsync(predictor, "v2/models/no-such-model/infer", request, HttpStatusCode.NotFound, "no-such-model");
        var wrongShape = Tensors(instances, includeKeys: false, tamper: t => t["name"] as string == "tenure" ? new Dictionary<string, object?>(t) { ["shape"] = new[] { 2, 2 } } : t);
        await AssertErrorAsync(predictor, "v2/models/churn/infer", wrongShape, HttpStatusCode.BadRequest, "input 'tenure' has shape [2, 2]");
        var wrongType = Tensors(instances, includeKeys: false, tamper: t => t["name"] as string == "tenure" ? new Dictionary<string, object?>(t) { ["datatype"] = "BYTES" } : t);
        await AssertErrorAsync(predictor, "v2/models/churn/infer", wrongType, HttpStatusCode.BadRequest, "input 'tenure' has datatype BYTES, expected FP32");
        var missing = Tensors(instances, includeKeys: false, tamper: t => t["name"] as string == "plan" ? null : t);
        await AssertErrorAsync(predictor, "v2/models/churn/infer", missing, HttpStatusCode.BadRequest, "missing input 'plan'");
    }

    [Fact]
    public async Task BusBatchPrediction_KeyedInstancesInChunks_EveryKeyComesBackWithItsPrediction()
    {
        await system.ChurnModelAsync();
        using var predictor = system.Client("Predictor");
        var instances = Data.ChurnInstances(7, seed: 13);
        var expected = await PredictAsync(predictor, "churn", instances);

        var chunks = new ConcurrentQueue<PredictionsComputed>();
        var requestId = Guid.NewGuid();
        var bus = await system.BusAsync();
        var handle = bus.ConnectReceiveEndpoint($"predictor-tests-results-{Guid.NewGuid():N}", e =>
            e.Handler<PredictionsComputed>(c =>
            {
                if (c.Message.RequestId == requestId)
                {
                    chunks.Enqueue(c.Message);
                }

                return Task.CompletedTask;
            }));
        await handle.Ready;

        var keyed = instances.Select((x, i) => new KeyedInstance { Key = $"row-{i}", Json = JsonSerializer.Serialize(x) }).ToList();
        keyed.Add(new KeyedInstance { Key = "broken", Json = """{"tenure": 3}""" });
        await bus.Publish(new RequestPredictions { RequestId = requestId, Dataset = "churn", Instances = keyed, ChunkSize = 3, CorrelationId = Guid.NewGuid() });
        await system.EventuallyAsync(() => Task.FromResult(chunks.Count >= 3 ? (int?)chunks.Count : null), PredictorFixture.Patience, "three result chunks");
        await handle.StopAsync();

        Assert.Equal([0, 1, 2], chunks.Select(c => c.ChunkIndex).Order());
        Assert.All(chunks, c => Assert.Equal(3, c.ChunkCount));
        var byKey = chunks.SelectMany(c => c.Predictions).ToDictionary(p => p.Key);
        Assert.Equal(8, byKey.Count);
        for (var i = 0; i < instances.Count; i++)
        {
            var prediction = JsonDocument.Parse(byKey[$"row-{i}"].Json!).RootElement;
            Assert.Equal(expected[i].GetProperty("label").GetString(), prediction.GetProperty("label").GetString());
            Assert.Equal(expected[i].GetProperty("probabilities").GetProperty("yes").GetDouble(), prediction.GetProperty("probabilities").GetProperty("yes").GetDouble(), 6);
        }

        Assert.Null(byKey["broken"].Json);
        Assert.Contains("missing the feature", byKey["broken"].Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServingStatistics_AfterPredictions_AreReportedInTheValidatorsForm()
    {
        var version = await system.ChurnModelAsync();
        var reports = new ConcurrentQueue<ServingStatisticsReported>();
        var bus = await system.BusAsync();
        var handle = bus.ConnectReceiveEndpoint($"predictor-tests-statistics-{Guid.NewGuid():N}", e =>
            e.Handler<ServingStatisticsReported>(c =>
            {
                if (c.Message.Dataset == "churn")
                {
                    reports.Enqueue(c.Message);
                }

                return Task.CompletedTask;
            }));
        await handle.Ready;

        using var predictor = system.Client("Predictor");
        await PredictAsync(predictor, "churn", Data.ChurnInstances(50, seed: 17));
        var report = await system.EventuallyAsync(() => Task.FromResult(reports.FirstOrDefault(r => r.SampledRows >= 50)), PredictorFixture.Patience, "a statistics report with the 50 rows");
        await handle.StopAsync();

        Assert.Equal(version, report.ModelVersion);
        var statistics = Ctm.Data.Statistics.BatchStatistics.FromJson(report.Statistics);
        Assert.Equal(["monthly_fee", "plan", "support_calls", "tenure"], statistics.Columns.Select(c => c.Name).Order(StringComparer.Ordinal));
        Assert.True(statistics.RowCount >= 50);
    }

    internal static async Task<List<JsonElement>> PredictAsync(HttpClient predictor, string dataset, object instances)
    {
        var response = await predictor.PostAsJsonAsync($"v1/models/{dataset}:predict", new { instances });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return [.. JsonDocument.Parse(text).RootElement.GetProperty("predictions").EnumerateArray()];
    }

    private static async Task AssertErrorAsync(HttpClient client, string url, object body, HttpStatusCode status, string contains)
    {
        var response = await client.PostAsJsonAsync(url, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{url}: expected {status}, got {response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = JsonDocument.Parse(text).RootElement.GetProperty("error").GetString();
        Assert.Contains(contains, error, StringComparison.Ordinal);
    }

    private static IEnumerable<JsonElement> Output(JsonElement response, string name) =>
        response.GetProperty("outputs").EnumerateArray().Single(o => o.GetProperty("name").GetString() == name).GetProperty("data").EnumerateArray();

    private static object Tensors(List<Dictionary<string, object?>> instances, bool includeKeys, Func<Dictionary<string, object?>, Dictionary<string, object?>?>? tamper = null)
    {
        var n = instances.Count;
        var tensors = new List<Dictionary<string, object?>>
        {
            new() { ["name"] = "tenure", ["datatype"] = "FP32", ["shape"] = new[] { n, 1 }, ["data"] = instances.Select(x => x["tenure"]).ToArray() },
            new() { ["name"] = "plan", ["datatype"] = "BYTES", ["shape"] = new[] { n, 1 }, ["data"] = instances.Select(x => x["plan"]).ToArray() },
            new() { ["name"] = "monthly_fee", ["datatype"] = "FP32", ["shape"] = new[] { n }, ["data"] = instances.Select(x => x["monthly_fee"]).ToArray() },
            new() { ["name"] = "support_calls", ["datatype"] = "FP32", ["shape"] = new[] { n, 1 }, ["data"] = instances.Select(x => new[] { x["support_calls"] }).ToArray() },
        };
        if (includeKeys)
        {
            tensors.Add(new() { ["name"] = "key", ["datatype"] = "BYTES", ["shape"] = new[] { n }, ["data"] = Enumerable.Range(0, n).Select(i => $"k{i}").ToArray() });
        }

        return new { id = "req-1", inputs = tensors.Select(t => tamper is null ? t : tamper(t)).OfType<Dictionary<string, object?>>().ToList() };
    }
}
