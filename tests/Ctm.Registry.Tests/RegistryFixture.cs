using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Ctm.Testing;

namespace Ctm.Registry.Tests;

/// <summary>The five services, started once for every test of the collection; few epochs, so training a version takes seconds.</summary>
public sealed class RegistryFixture : CtmSystem, IAsyncLifetime
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Training__Epochs"] = "5",
        ["Ingest__RowEvents__MaxDelaySeconds"] = "1",
    };

    public ArtifactHost Artifacts { get; } = new();

    async ValueTask IAsyncDisposable.DisposeAsync()
    {
        Artifacts.Dispose();
        await DisposeAsync();
    }

    public async Task<Guid> UploadBatchAsync(string dataset, string csv) => (await UploadAsync(dataset, csv, null)).GetProperty("batchId").GetGuid();

    /// <summary>Uploads a CSV batch, naming its upstream (<c>?source=</c>) when given; Ingest's receipt.</summary>
    public async Task<JsonElement> UploadAsync(string dataset, string csv, string? source)
    {
        using var ingest = Client("Ingest");
        using var content = new StringContent(csv, Encoding.UTF8, "text/csv");
        var response = await ingest.PostAsync($"v1/datasets/{dataset}/batches" + (source is null ? string.Empty : $"?source={Uri.EscapeDataString(source)}"), content);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public Task<JsonElement> WaitServingAsync(string dataset, int version) =>
        EventuallyAsync<JsonElement?>(async () =>
        {
            using var registry = Client("Registry");
            var response = await registry.GetAsync($"v1/datasets/{dataset}/serving");
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }

            var serving = await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();
            return serving.GetProperty("version").GetInt32() == version ? serving : null;
        }, Patience, $"{dataset} v{version} serving").ContinueWith(t => t.Result!.Value, TaskScheduler.Default);

    public Task<List<JsonElement>> WaitVersionsAsync(string dataset, int count) =>
        EventuallyAsync(async () =>
        {
            using var registry = Client("Registry");
            var list = await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/versions");
            return list is not null && list.Count >= count ? list : null;
        }, Patience, $"{count} versions of {dataset}");

    /// <summary>The audit entries of operators' actions, without those the serving record writes as replicas confirm or refuse versions.</summary>
    public static List<JsonElement> OperatorActions(IEnumerable<JsonElement> audit) =>
        [.. audit.Where(a => a.GetProperty("action").GetString() is not ("serving-confirmed" or "replica-refused" or "promotion-refused"))];

    /// <summary>Asks one Predictor replica for a prediction; the served version, or null while it cannot answer.</summary>
    public static async Task<string?> PredictedVersionAsync(ServiceProcess predictor, string dataset)
    {
        using var client = TestKeys.Authenticate(new HttpClient { BaseAddress = predictor.BaseUrl, Timeout = TimeSpan.FromSeconds(30) });
        var response = await client.PostAsJsonAsync($"v1/models/{dataset}:predict", new
        {
            instances = new object[] { new { tenure = 12, plan = "basic", monthly_fee = 80.0, support_calls = 3 } },
        });
        if (!response.IsSuccessStatusCode)
        {
            return null;
        }

        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return body.TryGetProperty("model_version", out var v) ? v.GetString() : null;
    }
}

[CollectionDefinition(Name)]
public sealed class RegistryCollection : ICollectionFixture<RegistryFixture>
{
    public const string Name = "registry system";
}
