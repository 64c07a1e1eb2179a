using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ctm.Contracts;

namespace Ctm.Predictor.Fast.Tests;

/// <summary>
/// A prediction request the model cannot take is answered 400 with the instance and the feature named, in the
/// protocol's own error format; the keys and roles of the API hold.
/// </summary>
public sealed class PredictionApiTests(PredictorService predictor) : IClassFixture<PredictorService>, IAsyncLifetime
{
    private const string Dataset = "churn";

    public async ValueTask InitializeAsync()
    {
        if (predictor.Harness.PublishedSoFar<ModelLoaded>(m => m.Dataset == Dataset).Count == 0)
        {
            await predictor.PublishAsync(predictor.Promotion(Dataset, 1, 1, PredictorService.ChurnModel));
            await predictor.Harness.PublishedAsync<ModelLoaded>(m => m.Dataset == Dataset);
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact]
    public async Task Predict_InstanceMissingAFeature_400NamingTheInstanceAndTheFeature()
    {
        var error = await ErrorAsync(new object[] { new { tenure = 3, plan = "pro", monthly_fee = 20.0 }, new { tenure = 5, monthly_fee = 20.0 } });

        Assert.Contains("instance 1", error, StringComparison.Ordinal);
        Assert.Contains("'plan'", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Predict_TextWhereANumberBelongs_400NamingTheFeatureAndTheValue()
    {
        var error = await ErrorAsync(new object[] { new { tenure = 3, plan = "pro", monthly_fee = "cheap" } });

        Assert.Contains("'monthly_fee'", error, StringComparison.Ordinal);
        Assert.Contains("instance 0", error, StringComparison.Ordinal);
        Assert.Contains("cheap", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Predict_PlainValueAmongObjects_400NamingTheInstanceAndWhatItMustBe()
    {
        var error = await ErrorAsync(new object[] { new { tenure = 3, plan = "pro", monthly_fee = 20.0 }, 42 });

        Assert.Contains("instance 1 must be a JSON object keyed by feature name", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Predict_UnknownModel_404()
    {
        using var client = predictor.Client();

        var response = await client.PostAsJsonAsync("v1/models/nothing-here:predict", new { instances = new[] { new { tenure = 1 } } });

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("nothing-here", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Predict_WithoutAKey_401_AsAReader_200()
    {
        using var anonymous = predictor.Client(null);
        using var reader = predictor.Client(TestKeys.OnlyRole("reader"));
        var body = new { instances = new[] { new { tenure = 3, plan = "pro", monthly_fee = 20.0 } } };

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync($"v1/models/{Dataset}:predict", body)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await reader.PostAsJsonAsync($"v1/models/{Dataset}:predict", body)).StatusCode);
    }

    [Fact]
    public async Task PutTraffic_AsAReader_403()
    {
        using var reader = predictor.Client(TestKeys.OnlyRole("reader"));

        var response = await reader.PutAsJsonAsync($"v1/models/{Dataset}/traffic", new { canaryVersion = 1, canaryShare = 0.5 });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Predict_BodyLargerThanTheFirstReadBuffer_ReadWholeAndAnswered()
    {
        // One instance, then 3 MiB of JSON whitespace: the body outgrows the 1 MiB first buffer twice.
        var json = """{"instances": [{"tenure": 3, "plan": "pro", "monthly_fee": 20.0}]""" + new string(' ', 3 << 20) + "}";
        using var client = predictor.Client();

        var response = await client.PostAsync($"v1/models/{Dataset}:predict", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"expected 200, got {(int)response.StatusCode}: {text}");
        Assert.Equal(1, JsonDocument.Parse(text).RootElement.GetProperty("predictions").GetArrayLength());
    }

    [Fact]
    public async Task Predict_BodyThatIsNotJson_400SayingSo()
    {
        using var client = predictor.Client();

        var response = await client.PostAsync($"v1/models/{Dataset}:predict", new StringContent("{\"instances\": [", System.Text.Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"expected 400, got {(int)response.StatusCode}: {text}");
        Assert.Contains("the request body is not valid JSON", JsonDocument.Parse(text).RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    private async Task<string> ErrorAsync(object[] instances)
    {
        using var client = predictor.Client();
        var response = await client.PostAsJsonAsync($"v1/models/{Dataset}:predict", new { instances });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"expected 400, got {(int)response.StatusCode}: {text}");
        // TF Serving's error format: {"error": "..."}.
        return JsonDocument.Parse(text).RootElement.GetProperty("error").GetString()!;
    }
}
