using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Ctm.Onnx;
using Ctm.Onnx.Model;
using Ctm.Testing;

namespace Ctm.Registry.Tests;

/// <summary>An upload is judged by the loader and warm-up the Predictor uses: what is accepted serves, what would not serve is refused with ONNX Runtime's reason.</summary>
[Collection(RegistryCollection.Name)]
public sealed class UploadCheckTests(RegistryFixture system)
{
    [Fact]
    public async Task Upload_ModelFailingItsFirstRun_IsRefusedWithOnnxRuntimesReason_AndNothingChanges()
    {
        const string dataset = "upload-refused-run";
        using var registry = await TrainedAsync(dataset, seed: 61);
        var g = new OnnxGraphBuilder("bad-reshape");
        g.AddInput("tenure", TensorElementType.Float, [null, 1], ["N", null]);
        g.AddInitializer("shape", new long[] { 4 }, [1]);
        g.AddNode("Reshape", ["tenure", "shape"], ["prediction"]);
        g.AddOutput("prediction", TensorElementType.Float, [4]);

        var response = await UploadAsync(registry, dataset, g.Build(new OnnxModelInfo { Opsets = { [""] = 17 } }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var detail = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
        Assert.Contains("warm-up run", detail, StringComparison.Ordinal);
        Assert.Contains("Reshape", detail, StringComparison.Ordinal);
        Assert.Single((await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/versions"))!);
        Assert.Equal(1, (await registry.GetFromJsonAsync<JsonElement>($"v1/datasets/{dataset}/serving")).GetProperty("version").GetInt32());
        var audit = RegistryFixture.OperatorActions((await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/audit"))!);
        Assert.Contains("Reshape", Assert.Single(audit, a => a.GetProperty("action").GetString() == "upload-refused").GetProperty("details").GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upload_ModelWithAFixedFirstDimension_IsAccepted_AndEveryLiveReplicaLoadsIt()
    {
        const string dataset = "upload-fixed-dim";
        using var registry = await TrainedAsync(dataset, seed: 62);
        var g = new OnnxGraphBuilder("fixed");
        g.AddInput("tenure", TensorElementType.Float, [3]);
        g.AddInitializer("two", new float[] { 2 }, [1]);
        g.AddNode("Mul", ["tenure", "two"], ["prediction"]);
        g.AddOutput("prediction", TensorElementType.Float, [3]);

        var response = await UploadAsync(registry, dataset, g.Build(new OnnxModelInfo { Opsets = { [""] = 17 } }));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var version = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetInt32();
        var approval = await registry.PostAsJsonAsync($"v1/datasets/{dataset}/versions/{version}/approve", new { @operator = "ivy", reason = "fixed-size model", waitSeconds = 60 });
        var answer = await approval.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();

        var answers = answer.GetProperty("confirmations").EnumerateArray().ToList();
        Assert.NotEmpty(answers);
        Assert.All(answers, a => Assert.Equal("loaded", a.GetProperty("state").GetString()));
        var serving = await system.WaitServingAsync(dataset, version);
        Assert.All(serving.GetProperty("replicas").EnumerateArray().Where(r => r.GetProperty("live").GetBoolean()), r => Assert.Equal(version, r.GetProperty("version").GetInt32()));
    }

    private async Task<HttpClient> TrainedAsync(string dataset, int seed)
    {
        using var validator = system.Client("Validator");
        var registry = system.Client("Registry");
        (await validator.PutAsJsonAsync($"v1/datasets/{dataset}/config", new { labelColumn = "churned", task = "binary" })).EnsureSuccessStatusCode();
        await system.UploadBatchAsync(dataset, ChurnData.Csv(300, seed: seed));
        await system.WaitServingAsync(dataset, 1);
        return registry;
    }

    private static async Task<HttpResponseMessage> UploadAsync(HttpClient registry, string dataset, byte[] model)
    {
        using var content = new ByteArrayContent(model);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return await registry.PostAsync($"v1/datasets/{dataset}/versions?operator=ivy", content);
    }
}
