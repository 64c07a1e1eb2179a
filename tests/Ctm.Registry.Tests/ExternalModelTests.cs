using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

using Ctm.Testing;

namespace Ctm.Registry.Tests;

/// <summary>Models trained elsewhere: uploaded, validated with ONNX Runtime, mapped onto the dataset's features, promoted by policy, served, rolled back to and from.</summary>
[Collection(RegistryCollection.Name)]
public sealed class ExternalModelTests(RegistryFixture system)
{
    [Fact]
    public async Task UploadedModels_InvalidOnesRefusedWithReason_ValidOnesRegisteredExternal_ServedAndRolledBackToAndFrom()
    {
        const string dataset = "external";
        using var validator = system.Client("Validator");
        using var registry = system.Client("Registry");
        (await validator.PutAsJsonAsync($"v1/datasets/{dataset}/config", new { labelColumn = "churned", task = "binary" })).EnsureSuccessStatusCode();
        await system.UploadBatchAsync(dataset, ChurnData.Csv(300, seed: 21));
        await system.WaitServingAsync(dataset, 1);

        // Not ONNX at all.
        var garbage = await UploadRawAsync(registry, dataset, [1, 2, 3, 4], "operator=frank");
        Assert.Equal(HttpStatusCode.BadRequest, garbage.StatusCode);
        Assert.Contains("not a valid ONNX model", await garbage.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Inputs that cannot be mapped: no mapping for a name that is not a feature; a string input fed by a numeric feature.
        var unmapped = await UploadRawAsync(registry, dataset, TestModels.Renamed(), "operator=frank");
        Assert.Equal(HttpStatusCode.BadRequest, unmapped.StatusCode);
        Assert.Contains("'numbers'", await unmapped.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var mistyped = await UploadRawAsync(registry, dataset, TestModels.Renamed(), "operator=frank&inputMapping=" + Uri.EscapeDataString("numbers=tenure,monthly_fee,support_calls;plan_code=tenure"));
        Assert.Equal(HttpStatusCode.BadRequest, mistyped.StatusCode);
        Assert.Contains("feature 'tenure' is numeric", await mistyped.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // A valid model with renamed inputs, as multipart: registered as external, waiting for approval (no comparable metrics).
        using (var form = new MultipartFormDataContent())
        {
            var file = new ByteArrayContent(TestModels.Renamed());
            file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(file, "file", "churn-sklearn.onnx");
            form.Add(new StringContent("frank"), "operator");
            form.Add(new StringContent("""{"numbers":"tenure,monthly_fee,support_calls","plan_code":"plan"}"""), "inputMapping");
            form.Add(new StringContent("notebook 42, scikit-learn 1.5"), "source");
            form.Add(new StringContent("gradient boosting baseline"), "description");
            using var asFrank = system.Client("Registry", "frank");
            var created = await asFrank.PostAsync($"v1/datasets/{dataset}/versions", form);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var result = await created.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(2, result.GetProperty("version").GetInt32());
            Assert.Equal("pending", result.GetProperty("decision").GetString());
        }

        var lineage = await registry.GetFromJsonAsync<JsonElement>($"v1/datasets/{dataset}/versions/2/lineage");
        Assert.Equal("external", lineage.GetProperty("origin").GetString());
        var external = lineage.GetProperty("external");
        Assert.Equal("frank", external.GetProperty("uploadedBy").GetString());
        Assert.Equal("notebook 42, scikit-learn 1.5", external.GetProperty("source").GetString());
        Assert.Equal(64, external.GetProperty("sha256").GetString()!.Length);
        Assert.Equal("tenure,monthly_fee,support_calls", external.GetProperty("inputMapping").GetProperty("numbers").GetString());
        var details = await registry.GetFromJsonAsync<JsonElement>($"v1/datasets/{dataset}/versions/2");
        Assert.Equal("plan", details.GetProperty("inputMapping").GetProperty("plan_code").GetString());
        await system.WaitServingAsync(dataset, 1);

        // The trained model's own file uploaded as if from outside (inputs named after the features), then approved: it serves.
        var trainedBytes = await registry.GetByteArrayAsync($"v1/datasets/{dataset}/versions/1/artifact");
        var raw = await UploadRawAsync(registry, dataset, trainedBytes, "operator=grace&source=copy-of-v1&description=re-import");
        Assert.Equal(HttpStatusCode.Created, raw.StatusCode);
        Assert.Equal(3, (await raw.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetInt32());
        (await registry.PostAsJsonAsync($"v1/datasets/{dataset}/versions/3/approve", new { @operator = "grace", reason = "A/B winner" })).EnsureSuccessStatusCode();
        await system.WaitServingAsync(dataset, 3);
        await PredictorAnswersAsync(dataset, 3);

        // Rolled back from the external version, then to it.
        (await registry.PostAsJsonAsync($"v1/datasets/{dataset}/rollbacks", new { targetVersion = 1, reason = "back to ours", @operator = "grace" })).EnsureSuccessStatusCode();
        await PredictorAnswersAsync(dataset, 1);
        (await registry.PostAsJsonAsync($"v1/datasets/{dataset}/rollbacks", new { targetVersion = 3, reason = "theirs again", @operator = "grace" })).EnsureSuccessStatusCode();
        await PredictorAnswersAsync(dataset, 3);

        var audit = await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/audit");
        Assert.Equal(
            ["upload-refused", "upload-refused", "upload-refused", "upload-model", "upload-model", "approve", "rollback", "rollback"],
            RegistryFixture.OperatorActions(audit!).Select(a => a.GetProperty("action").GetString()));
    }

    private static async Task<HttpResponseMessage> UploadRawAsync(HttpClient registry, string dataset, byte[] bytes, string query)
    {
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return await registry.PostAsync($"v1/datasets/{dataset}/versions?{query}", content);
    }

    private Task PredictorAnswersAsync(string dataset, int version) =>
        system.EventuallyAsync(async () => await RegistryFixture.PredictedVersionAsync(system["Predictor"], dataset) == version.ToString(CultureInfo.InvariantCulture) ? "ok" : null,
            RegistryFixture.Patience, $"the Predictor answering {dataset} with v{version}");
}
