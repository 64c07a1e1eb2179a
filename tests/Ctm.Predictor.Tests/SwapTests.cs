using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Ctm.Contracts;
using Ctm.Testing;
using MassTransit;

namespace Ctm.Predictor.Tests;

/// <summary>Swaps through the running services: under load, and refusing a corrupt artifact.</summary>
[Collection(PredictorCollection.Name)]
public sealed class SwapTests(PredictorFixture system)
{
    [Fact]
    public async Task Swap_TwoPromotionsAndARollbackUnderLoad_NoRequestFailsAndEveryAnswerFollowsThePromotions()
    {
        const string dataset = "swap-load";
        await system.TrainAsync(dataset, "churned", [Data.Churn(300, seed: 21)]);

        var promotions = new ConcurrentQueue<(int Version, long Generation, string Reason)>();
        var bus = await system.BusAsync();
        var handle = bus.ConnectReceiveEndpoint($"predictor-tests-promotions-{Guid.NewGuid():N}", e =>
            e.Handler<ModelPromoted>(c =>
            {
                if (c.Message.Dataset == dataset)
                {
                    promotions.Enqueue((c.Message.Version, c.Message.Generation, c.Message.Reason));
                }

                return Task.CompletedTask;
            }));
        await handle.Ready;

        using var stop = new CancellationTokenSource();
        var body = new { instances = Data.ChurnInstances(2, seed: 5) };
        var clients = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            using var client = system.Client("Predictor");
            var answers = new List<(HttpStatusCode Status, string? Version, string Body)>();
            while (!stop.IsCancellationRequested)
            {
                var response = await client.PostAsJsonAsync($"v1/models/{dataset}:predict", body);
                var text = await response.Content.ReadAsStringAsync();
                var version = response.IsSuccessStatusCode ? JsonDocument.Parse(text).RootElement.GetProperty("model_version").GetString() : null;
                answers.Add((response.StatusCode, version, text));
            }

            return answers;
        })).ToList();

        using var predictor = system.Client("Predictor");
        await system.UploadAsync(dataset, Data.Churn(300, seed: 22));
        await system.WaitServedAsync(predictor, dataset, 2);
        await system.UploadAsync(dataset, Data.Churn(300, seed: 23));
        await system.WaitServedAsync(predictor, dataset, 3);
        var generationOfV3 = (await PredictorFixture.ModelAsync(predictor, dataset))!.Value.GetProperty("generation").GetInt64();
        await bus.Publish(CtmSystem.SignedByOperator(new RequestRollback
        {
            RequestId = Guid.NewGuid(),
            Dataset = dataset,
            TargetVersion = 2,
            Reason = "swap test",
            Operator = "predictor-tests",
            CorrelationId = Guid.NewGuid(),
        }));
        await system.EventuallyAsync<int?>(async () =>
            await PredictorFixture.ModelAsync(predictor, dataset) is { } m && m.GetProperty("version").GetInt32() == 2 && m.GetProperty("generation").GetInt64() > generationOfV3 ? 2 : null,
            PredictorFixture.Patience, "v2 served again after the rollback");

        // Let the clients see the rolled-back version for a moment too.
        await system.EventuallyAsync<bool?>(() => Task.FromResult<bool?>(promotions.Any(p => p.Reason == "rollback") ? true : null), PredictorFixture.Patience, "the rollback's ModelPromoted");
        await Task.Delay(500);
        await stop.CancelAsync();
        var all = (await Task.WhenAll(clients)).ToList();
        await handle.StopAsync();

        var failed = all.SelectMany(a => a).Where(a => a.Status != HttpStatusCode.OK).ToList();
        Assert.True(failed.Count == 0, $"{failed.Count} failed requests, e.g. {failed.FirstOrDefault()}");
        Assert.True(all.Sum(a => a.Count) > 20, $"only {all.Sum(a => a.Count)} requests were made");

        // The promotions in order: v1 (before the listener), then what the bus delivered, by generation.
        var order = new List<int> { 1 };
        order.AddRange(promotions.OrderBy(p => p.Generation).Select(p => p.Version));
        Assert.Equal([1, 2, 3, 2], order);
        foreach (var answers in all)
        {
            // Each client's answers follow the promotion order: never a version that was not promoted, never back to a superseded one.
            var position = 0;
            foreach (var (_, version, _) in answers)
            {
                var v = int.Parse(version!, System.Globalization.CultureInfo.InvariantCulture);
                while (order[position] != v)
                {
                    position++;
                    Assert.True(position < order.Count, $"an answer from v{v} after the promotions had moved past it: {string.Join(",", answers.Select(a => a.Version))}");
                }
            }
        }

        Assert.Contains(all.SelectMany(a => a), a => a.Version == "3");
    }

    [Fact]
    public async Task Load_ArtifactWithOneByteFlipped_IsRefusedReportedAndTheOldVersionKeepsServing()
    {
        const string dataset = "corrupt";
        var served = await system.TrainAsync(dataset, "churned", [Data.Churn(300, seed: 31)]);
        using var registry = system.Client("Registry");
        using var predictor = system.Client("Predictor");
        var artifact = await registry.GetByteArrayAsync($"v1/datasets/{dataset}/versions/{served}/artifact");
        var sha256 = (await registry.GetFromJsonAsync<JsonElement>($"v1/datasets/{dataset}/versions/{served}")).GetProperty("sha256").GetString()!;
        Assert.Equal(sha256, Convert.ToHexStringLower(SHA256.HashData(artifact)));

        var flipped = (byte[])artifact.Clone();
        flipped[flipped.Length / 2] ^= 0x01;
        var garbage = "this is not an ONNX model"u8.ToArray();
        using var server = new ArtifactServer(new Dictionary<string, byte[]> { ["/flipped.onnx"] = flipped, ["/garbage.onnx"] = garbage });

        var failures = new ConcurrentQueue<ModelLoadFailed>();
        var bus = await system.BusAsync();
        var handle = bus.ConnectReceiveEndpoint($"predictor-tests-failures-{Guid.NewGuid():N}", e =>
            e.Handler<ModelLoadFailed>(c =>
            {
                failures.Enqueue(c.Message);
                return Task.CompletedTask;
            }));
        await handle.Ready;

        // The real artifact's hash, but a byte flipped in transit or at rest.
        await bus.Publish(Promotion(dataset, 901, 1_000_000, server.Url("/flipped.onnx"), sha256));
        var refused = await system.EventuallyAsync(() => Task.FromResult(failures.FirstOrDefault(f => f.Version == 901)), PredictorFixture.Patience, "ModelLoadFailed for v901");
        Assert.Equal("hash-mismatch", refused.Kind);
        Assert.Equal(served, refused.ServingVersion);
        Assert.Contains(sha256, refused.Reason, StringComparison.Ordinal);

        // A file whose hash matches but that is no model.
        await bus.Publish(Promotion(dataset, 902, 1_000_001, server.Url("/garbage.onnx"), Convert.ToHexStringLower(SHA256.HashData(garbage))));
        var invalid = await system.EventuallyAsync(() => Task.FromResult(failures.FirstOrDefault(f => f.Version == 902)), PredictorFixture.Patience, "ModelLoadFailed for v902");
        Assert.Equal("invalid-model", invalid.Kind);
        await handle.StopAsync();

        var response = await predictor.PostAsJsonAsync($"v1/models/{dataset}:predict", new { instances = Data.ChurnInstances(1, seed: 1) });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(PredictorFixture.Text(served), (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("model_version").GetString());

        var status = await predictor.GetFromJsonAsync<JsonElement>($"v1/models/{dataset}");
        var versions = status.GetProperty("model_version_status").EnumerateArray().ToList();
        Assert.Contains(versions, v => v.GetProperty("version").GetString() == PredictorFixture.Text(served) && v.GetProperty("state").GetString() == "AVAILABLE");
        Assert.Contains(versions, v => v.GetProperty("version").GetString() == "902" && v.GetProperty("state").GetString() == "END"
            && v.GetProperty("status").GetProperty("error_code").GetString() == "INVALID_ARGUMENT");

        var ready = await predictor.GetAsync("health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var description = (await ready.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("checks").GetProperty("models");
        Assert.Equal("Degraded", description.GetProperty("status").GetString());
        Assert.Contains($"{dataset} v902 refused", description.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Contains($"v{served} keeps serving", description.GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    private static ModelPromoted Promotion(string dataset, int version, long generation, string location, string sha256) => new()
    {
        Dataset = dataset,
        Version = version,
        Generation = generation,
        ArtifactLocation = location,
        ArtifactSha256 = sha256,
        Reason = "manual",
        CorrelationId = Guid.NewGuid(),
        PromotedAt = DateTimeOffset.UtcNow,
    };

    /// <summary>Serves fixed bytes on loopback, as a tampered artifact store would.</summary>
    private sealed class ArtifactServer : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly int _port = Testing.TestEnvironment.FreePort();

        public ArtifactServer(IReadOnlyDictionary<string, byte[]> files)
        {
            _listener.Prefixes.Add($"http://127.0.0.1:{_port}/");
            _listener.Start();
            _ = Task.Run(async () =>
            {
                while (_listener.IsListening)
                {
                    HttpListenerContext context;
                    try
                    {
                        context = await _listener.GetContextAsync();
                    }
                    catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                    {
                        return;
                    }

                    if (files.TryGetValue(context.Request.Url!.AbsolutePath, out var bytes))
                    {
                        context.Response.ContentType = "application/octet-stream";
                        await context.Response.OutputStream.WriteAsync(bytes);
                    }
                    else
                    {
                        context.Response.StatusCode = 404;
                    }

                    context.Response.Close();
                }
            });
        }

        public string Url(string path) => $"http://127.0.0.1:{_port}{path}";

        public void Dispose() => _listener.Close();
    }
}
