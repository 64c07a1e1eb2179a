using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Ctm.Testing;

namespace Ctm.Predictor.Tests;

/// <summary>The five services for the Predictor's tests, with short training, and serving statistics every two seconds.</summary>
public sealed class PredictorFixture : CtmSystem, IAsyncLifetime
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    private readonly Lock _lock = new();
    private Task<int>? _churn;

    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Training__Epochs"] = "8",
        ["Ingest__RowEvents__MaxDelaySeconds"] = "1",
        ["Serving__StatisticsIntervalSeconds"] = "2",
        ["Serving__StatisticsSampleRate"] = "1",
        ["Quality__Feedback__MinRows"] = "1", // every joined prediction scored at once (ServedPredictionTests)
    };

    /// <summary>Dataset <c>churn</c> (numeric and categorical features: the dynamic path) with one version served; trained once per fixture.</summary>
    public Task<int> ChurnModelAsync()
    {
        lock (_lock)
        {
            return _churn ??= TrainAsync("churn", "churned", [Data.Churn(300, seed: 11)]);
        }
    }

    /// <summary>Configures <paramref name="dataset"/> (label, every version promoted), uploads the batches one by one and waits until the Predictor serves the last version.</summary>
    public async Task<int> TrainAsync(string dataset, string label, IReadOnlyList<string> batches, string task = "binary")
    {
        using var validator = Client("Validator");
        using var registry = Client("Registry");
        (await validator.PutAsJsonAsync($"v1/datasets/{dataset}/config", new { labelColumn = label, task })).EnsureSuccessStatusCode();
        (await registry.PutAsJsonAsync($"v1/datasets/{dataset}/policy", new { mode = "auto", tolerance = 1.0, @operator = "predictor-tests" })).EnsureSuccessStatusCode();
        using var predictor = Client("Predictor");
        var version = 0;
        foreach (var csv in batches)
        {
            await UploadAsync(dataset, csv);
            version = await WaitServedAsync(predictor, dataset, version + 1);
        }

        return version;
    }

    public async Task UploadAsync(string dataset, string csv)
    {
        using var ingest = Client("Ingest");
        using var content = new StringContent(csv, Encoding.UTF8, "text/csv");
        var response = await ingest.PostAsync($"v1/datasets/{dataset}/batches", content);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Waits until <paramref name="predictor"/> serves a version of at least <paramref name="atLeast"/> (and, if given, a generation above <paramref name="generationAbove"/>).</summary>
    public async Task<int> WaitServedAsync(HttpClient predictor, string dataset, int atLeast, long generationAbove = 0)
    {
        return await EventuallyAsync<int?>(async () =>
        {
            var status = await ModelAsync(predictor, dataset);
            return status is { } s && s.TryGetProperty("version", out var v) && v.ValueKind == JsonValueKind.Number
                && v.GetInt32() >= atLeast && s.GetProperty("generation").GetInt64() > generationAbove
                ? v.GetInt32()
                : null;
        }, Patience, $"the Predictor at {predictor.BaseAddress} serving {dataset} v{atLeast} or later") ?? 0;
    }

    /// <summary>This replica's description of the dataset (<c>GET /v1/models/{name}</c>'s <c>ctm</c> part), or null.</summary>
    public static async Task<JsonElement?> ModelAsync(HttpClient predictor, string dataset)
    {
        var response = await predictor.GetAsync($"v1/models/{dataset}");
        return response.IsSuccessStatusCode ? (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ctm") : null;
    }

    public static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Datasets generated from fixed seeds.</summary>
public static class Data
{
    public static readonly string[] Plans = ["basic", "pro", "team"];
    public static readonly string[] Colors = ["red", "green", "blue"];
    public static readonly string[] Sizes = ["S", "M", "L"];
    public static readonly string[] Shapes = ["circle", "square"];

    /// <summary>A churn-like table: numeric tenure, fee and calls, categorical plan; a nonlinear label.</summary>
    public static string Churn(int rows, int seed)
    {
        var random = new Random(seed);
        var csv = new StringBuilder("tenure,plan,monthly_fee,support_calls,churned\n");
        for (var i = 0; i < rows; i++)
        {
            var tenure = random.Next(1, 60);
            var plan = Plans[random.Next(Plans.Length)];
            var fee = Math.Round(10 + (random.NextDouble() * 90), 2);
            var calls = random.Next(0, 8);
            var risk = (calls * 0.5) - (tenure * 0.06) + (plan == "basic" ? 0.8 : 0) + (fee > 70 ? 0.7 : 0);
            var churned = risk + ((random.NextDouble() - 0.5) * 0.8) > 0.3 ? "yes" : "no";
            csv.Append(CultureInfo.InvariantCulture, $"{tenure},{plan},{fee},{calls},{churned}\n");
        }

        return csv.ToString();
    }

    /// <summary>Only categorical features (color, size, shape): a model whose whole input space fits a table.</summary>
    public static string Categorical(int rows, int seed)
    {
        var random = new Random(seed);
        var csv = new StringBuilder("color,size,shape,bought\n");
        for (var i = 0; i < rows; i++)
        {
            var color = Colors[random.Next(Colors.Length)];
            var size = Sizes[random.Next(Sizes.Length)];
            var shape = Shapes[random.Next(Shapes.Length)];
            var score = (color == "red" ? 1.0 : color == "blue" ? -0.5 : 0) + (size == "L" ? 0.8 : size == "S" ? -0.6 : 0) + (shape == "circle" ? 0.4 : -0.4);
            var bought = score + ((random.NextDouble() - 0.5) * 0.6) > 0.2 ? "yes" : "no";
            csv.Append(CultureInfo.InvariantCulture, $"{color},{size},{shape},{bought}\n");
        }

        return csv.ToString();
    }

    /// <summary>Churn instances as JSON objects, from a fixed seed.</summary>
    public static List<Dictionary<string, object?>> ChurnInstances(int count, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => new Dictionary<string, object?>
        {
            ["tenure"] = random.Next(1, 60),
            ["plan"] = Plans[random.Next(Plans.Length)],
            ["monthly_fee"] = Math.Round(10 + (random.NextDouble() * 90), 2),
            ["support_calls"] = random.Next(0, 8),
        })];
    }
}

/// <summary>One running system for every system test class of this project (they run one after the other).</summary>
[CollectionDefinition(Name)]
public sealed class PredictorCollection : ICollectionFixture<PredictorFixture>
{
    public const string Name = "predictor system";
}
