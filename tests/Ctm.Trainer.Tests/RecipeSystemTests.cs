using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Ctm.Testing;

namespace Ctm.Trainer.Tests;

/// <summary>The services for the recipe tests, started with <c>Training:HiddenLayers</c> = [16] as an operator would set it.</summary>
public sealed class SixteenUnitSystem : CtmSystem, IAsyncLifetime
{
    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Training__HiddenLayers__0"] = "16",
        ["Training__Epochs"] = "8",
        ["Ingest__RowEvents__MaxDelaySeconds"] = "1",
    };
}

/// <summary>The training recipe through the five running services: settings binding, new classes, failures that must not block.</summary>
public sealed class RecipeSystemTests(SixteenUnitSystem system) : IClassFixture<SixteenUnitSystem>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(180);

    /// <summary>
    /// Rows of a small multiclass stream: x in [-3, 3), a categorical shade, and a class by x's range; with
    /// <paramref name="violet"/> the top range is a class the first batches never had.
    /// </summary>
    private static string Csv(int rows, int seed, bool violet)
    {
        var rng = new Random(seed);
        var csv = new StringBuilder("x,shade,kind\n");
        string[] shades = ["light", "dark", "mid"];
        for (var i = 0; i < rows; i++)
        {
            var x = (rng.NextDouble() * 6) - 3;
            var kind = x < -1 ? "red" : x < 1 ? "green" : violet && x > 2 ? "violet" : "blue";
            csv.Append(CultureInfo.InvariantCulture, $"{x:0.0000},{shades[rng.Next(3)]},{kind}\n");
        }

        return csv.ToString();
    }

    [Fact]
    public async Task HiddenLayersSixteenInSettings_TrainsASixteenUnitNetwork()
    {
        const string dataset = "binding-16";
        await ConfigureAsync(dataset);
        await UploadAsync(dataset, Csv(300, 1, violet: false));
        var run = (await WaitForRunsAsync(dataset, r => r.Count >= 1))[0];

        var parameters = run.GetProperty("parameters");
        Assert.Equal("16", parameters.GetProperty("hiddenLayers").GetString());
        Assert.Equal("full", run.GetProperty("mode").GetString());
        Assert.Equal("no parent model", run.GetProperty("modeReason").GetString());
        // Compute is recorded where the benchmark reads it, and agrees with the run's own parameters.
        var trained = run.GetProperty("trainedSamples").GetInt64();
        Assert.True(trained > 0);
        Assert.Equal(trained.ToString(CultureInfo.InvariantCulture), parameters.GetProperty("trainedSamples").GetString());
    }

    [Fact]
    public async Task NewClassMidStream_TrainsAFreshModel_ServedBeforeTheNextBatch()
    {
        const string dataset = "new-class";
        using var trainer = system.Client("Trainer");
        using var predictor = system.Client("Predictor");
        await ConfigureAsync(dataset);
        await UploadAsync(dataset, Csv(400, 10, violet: false));
        var first = (await WaitForRunsAsync(dataset, r => r.Count >= 1))[0];
        await WaitServingAsync(trainer, dataset, first.GetProperty("id").GetGuid());

        var withViolet = await UploadAsync(dataset, Csv(400, 11, violet: true));
        await ReleaseIfQuarantinedAsync(withViolet);
        var runs = await WaitForRunsAsync(dataset, r => r.Any(x => BatchIds(x).Contains(withViolet)));
        var fresh = Assert.Single(runs, r => BatchIds(r).Contains(withViolet));

        Assert.True(fresh.GetProperty("parameters").TryGetProperty("fresh", out var why), fresh.ToString());
        Assert.Equal("full", fresh.GetProperty("mode").GetString());
        Assert.Equal("new class 'violet'", why.GetString());
        Assert.True(fresh.GetProperty("parameters").TryGetProperty("newClasses", out var added), fresh.ToString());
        Assert.Equal("violet", added.GetString());
        Assert.False(fresh.TryGetProperty("parentVersion", out var parent) && parent.ValueKind != JsonValueKind.Null, "a fresh model has no parent");

        // Promoted although the serving version scores well on rows of its own classes, and served by the Predictor:
        // the batch after the class first appeared is predicted by a model that knows it.
        await WaitServingAsync(trainer, dataset, fresh.GetProperty("id").GetGuid());
        var label = await system.EventuallyAsync(async () =>
        {
            var response = await predictor.PostAsJsonAsync($"v1/models/{dataset}:predict", new { instances = new[] { new { x = 2.6, shade = "mid" } } });
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            var text = body.GetProperty("predictions")[0].ToString();
            return text.Contains("violet", StringComparison.Ordinal) ? text : null;
        }, Patience, "the Predictor answering 'violet' for x = 2.6");
        Assert.Contains("violet", label, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RequestThatCannotSucceed_FailsOnceWithItsReason_AndLaterBatchesStillTrain()
    {
        const string dataset = "bad-request";
        using var trainer = system.Client("Trainer");
        await ConfigureAsync(dataset);
        await UploadAsync(dataset, Csv(300, 20, violet: false));
        await WaitForRunsAsync(dataset, r => r.Count >= 1);

        var response = await trainer.PostAsJsonAsync($"v1/datasets/{dataset}/retrain", new { fromVersion = 42, requestedBy = "tests" });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var requestJob = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var failed = await system.EventuallyAsync(async () =>
            (await trainer.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/jobs"))!
                .FirstOrDefault(j => j.GetProperty("id").GetGuid() == requestJob && j.GetProperty("status").GetString() == "failed") is { ValueKind: JsonValueKind.Object } j ? (JsonElement?)j : null,
            Patience, "the request's job failed");
        Assert.Equal(1, failed!.Value.GetProperty("attempts").GetInt32());
        Assert.Contains("version 42", failed.Value.GetProperty("error").GetString(), StringComparison.Ordinal);

        var later = await UploadAsync(dataset, Csv(300, 21, violet: false));
        await WaitForRunsAsync(dataset, r => r.Any(x => BatchIds(x).Contains(later)));
        var jobs = (await trainer.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/jobs"))!;
        Assert.All(jobs.Where(j => j.GetProperty("id").GetGuid() != requestJob), j => Assert.Equal("done", j.GetProperty("status").GetString()));
    }

    private async Task ConfigureAsync(string dataset)
    {
        using var validator = system.Client("Validator");
        (await validator.PutAsJsonAsync($"v1/datasets/{dataset}/config", new { labelColumn = "kind", task = "multiclass" })).EnsureSuccessStatusCode();
    }

    private async Task<Guid> UploadAsync(string dataset, string csv)
    {
        using var ingest = system.Client("Ingest");
        using var content = new StringContent(csv, Encoding.UTF8, "text/csv");
        var response = await ingest.PostAsync($"v1/datasets/{dataset}/batches", content);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("batchId").GetGuid();
    }

    /// <summary>
    /// Whether a new label value passes validation is the Validator's business; if it holds the batch back, an
    /// operator's release is what lets it through, and the Trainer's part starts there.
    /// </summary>
    private async Task ReleaseIfQuarantinedAsync(Guid batch)
    {
        using var validator = system.Client("Validator");
        var status = await system.EventuallyAsync(async () =>
        {
            var response = await validator.GetAsync($"v1/batches/{batch}");
            return response.IsSuccessStatusCode ? (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString() : null;
        }, Patience, "the Validator's decision");
        if (status == "quarantined")
        {
            (await validator.PostAsJsonAsync($"v1/batches/{batch}/release", new { @operator = "tests", reason = "a new class is expected" })).EnsureSuccessStatusCode();
        }
    }

    private async Task<List<JsonElement>> WaitForRunsAsync(string dataset, Func<List<JsonElement>, bool> done)
    {
        using var trainer = system.Client("Trainer");
        return await system.EventuallyAsync(async () =>
            await trainer.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/runs") is { } l && done(l) ? l : null, Patience, $"runs of {dataset}");
    }

    private async Task WaitServingAsync(HttpClient trainer, string dataset, Guid runId) =>
        await system.EventuallyAsync(async () =>
        {
            var response = await trainer.GetAsync($"v1/datasets/{dataset}/serving");
            return response.IsSuccessStatusCode && (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetGuid() == runId ? "serving" : null;
        }, Patience, $"run {runId} serving");

    private static List<Guid> BatchIds(JsonElement run) => [.. run.GetProperty("batchIds").EnumerateArray().Select(b => b.GetGuid())];
}
