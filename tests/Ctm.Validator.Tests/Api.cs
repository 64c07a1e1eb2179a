using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Ctm.Validator.Tests;

/// <summary>HTTP helpers over the running services, asserting what a user would check.</summary>
public static class Api
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(150);

    public static async Task<Guid> UploadAsync(HttpClient ingest, string dataset, string csv)
    {
        using var content = new StringContent(csv, Encoding.UTF8, "text/csv");
        var response = await ingest.PostAsync($"v1/datasets/{dataset}/batches", content);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("batchId").GetGuid();
    }

    /// <summary>Waits for the Validator's decision on <paramref name="batchId"/>.</summary>
    public static Task<JsonElement> DecisionAsync(this ValidatorFixture system, Guid batchId) =>
        system.EventuallyAsync<JsonElement?>(async () =>
        {
            using var validator = system.Client("Validator");
            var response = await validator.GetAsync($"v1/batches/{batchId}");
            return response.StatusCode == HttpStatusCode.NotFound ? null : await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();
        }, Patience, $"the decision on batch {batchId}").ContinueWith(t => t.Result!.Value, TaskScheduler.Default);

    public static async Task<JsonElement> PostAsync(HttpClient client, string url, object body, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var response = await client.PostAsJsonAsync(url, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"POST {url}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    public static async Task<List<JsonElement>> ListAsync(HttpClient client, string url) =>
        await client.GetFromJsonAsync<List<JsonElement>>(url) ?? [];

    public static List<string> Kinds(JsonElement decision) =>
        [.. decision.GetProperty("reasons").EnumerateArray().Select(r => r.GetProperty("kind").GetString()!)];

    public static IEnumerable<Guid> Guids(JsonElement array) => array.EnumerateArray().Select(e => e.GetGuid());

    /// <summary>Every batch id any run of the Trainer and any version of the Registry was trained on.</summary>
    public static async Task<HashSet<Guid>> TrainedBatchesAsync(ValidatorFixture system, string dataset)
    {
        using var trainer = system.Client("Trainer");
        using var registry = system.Client("Registry");
        var runs = await ListAsync(trainer, $"v1/datasets/{dataset}/runs");
        var versions = await ListAsync(registry, $"v1/datasets/{dataset}/versions");
        var set = runs.SelectMany(r => Guids(r.GetProperty("batchIds"))).ToHashSet();
        foreach (var v in versions)
        {
            var lineage = await registry.GetFromJsonAsync<JsonElement>($"v1/datasets/{dataset}/versions/{v.GetProperty("version").GetInt32()}");
            set.UnionWith(Guids(lineage.GetProperty("batchIds")));
        }

        return set;
    }
}
