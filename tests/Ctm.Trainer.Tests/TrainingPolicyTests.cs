using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Ctm.Contracts;

using Ctm.Testing;

namespace Ctm.Trainer.Tests;

/// <summary>Retraining as clean data arrives, through the five running services on the real RabbitMQ and PostgreSQL.</summary>
public sealed class TrainingPolicyTests(TrainerSystem system) : IClassFixture<TrainerSystem>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(180);

    [Fact]
    public async Task TenBatches_EveryThreeBatchesPolicy_ThreeVersionsOnTheRightBatches()
    {
        const string dataset = "every-three";
        using var trainer = system.Client("Trainer");
        using var registry = system.Client("Registry");
        await ConfigureAsync(dataset, new { trigger = "batches", everyBatches = 3 });

        var uploaded = new List<Guid>();
        for (var i = 0; i < 10; i++)
        {
            uploaded.Add(await UploadAsync(dataset, ChurnData.Csv(120, seed: 100 + i)));
        }

        var jobs = await system.EventuallyAsync(async () =>
        {
            var list = await trainer.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/jobs");
            return list is { Count: 10 } && list.Count(j => j.GetProperty("status").GetString() == "done") == 9 ? list : null;
        }, Patience, "ten jobs, nine answered");
        var runs = (await trainer.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/runs"))!;
        // "Every 3 accepted batches" counts in the order the batches were accepted (the Validator decides a dataset's
        // batches one at a time, but may retry one, so that is not always the upload order).
        using var validator = system.Client("Validator");
        var accepted = (await validator.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/batches"))!
            .OrderBy(d => d.GetProperty("decidedAt").GetDateTimeOffset()).Select(d => d.GetProperty("batchId").GetGuid()).ToList();
        Assert.Equal(uploaded.Order(), accepted.Order());

        Assert.Equal(3, runs.Count);
        for (var k = 0; k < 3; k++)
        {
            Assert.Equal(accepted.Take(3 * (k + 1)).Order(), BatchIds(runs[k]).Order());
        }

        // Every accepted batch has its job; the tenth waits for two more batches.
        Assert.All(uploaded, b => Assert.Single(jobs, j => j.GetProperty("triggerKey").GetString()!.Contains(b.ToString(), StringComparison.Ordinal)));
        var waiting = Assert.Single(jobs, j => j.GetProperty("status").GetString() == "pending");
        Assert.Equal(accepted[9], waiting.GetProperty("batchId").GetGuid());

        var versions = await system.EventuallyAsync(async () =>
            await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/versions") is { Count: 3 } v ? v : null, Patience, "three registered versions");
        for (var k = 0; k < 3; k++)
        {
            var version = Assert.Single(versions, v => v.GetProperty("runId").GetGuid() == runs[k].GetProperty("id").GetGuid());
            Assert.Equal(accepted.Take(3 * (k + 1)).Order(), BatchIds(version).Order());
        }
    }

    [Fact]
    public async Task OnnxRuntimeOnCpuPolicy_TrainsThroughTheService_AndTheRunRecordsEngineAndDevice()
    {
        const string dataset = "onnxruntime-cpu";
        using var trainer = system.Client("Trainer");
        using var registry = system.Client("Registry");
        await ConfigureAsync(dataset, new { trigger = "batches", everyBatches = 1, engine = "onnxruntime", device = "cpu" });
        var policy = (await trainer.GetFromJsonAsync<JsonElement>($"v1/datasets/{dataset}/policy"))!;
        Assert.Equal("onnxruntime", policy.GetProperty("engine").GetString());
        Assert.Equal("cpu", policy.GetProperty("device").GetString());
        var rejected = await trainer.PutAsJsonAsync($"v1/datasets/{dataset}/policy", new { trigger = "batches", everyBatches = 1, engine = "managed", device = "cuda" });
        Assert.Equal(HttpStatusCode.BadRequest, rejected.StatusCode);
        Assert.Contains("managed engine runs on the CPU only", await rejected.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var batch = await UploadAsync(dataset, ChurnData.Csv(600, seed: 31));

        var run = Assert.Single(await WaitForRunsAsync(dataset, 1));
        Assert.Equal([batch], BatchIds(run));
        Assert.Equal("ctm-onnxruntime-cpu", run.GetProperty("engine").GetString());
        Assert.Equal("cpu", run.GetProperty("device").GetString());
        Assert.True(run.GetProperty("metrics").GetProperty("overall").GetProperty("accuracy").GetDouble() > 0.6, run.GetProperty("metrics").ToString());
        var version = await system.EventuallyAsync(async () =>
            await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/versions") is [var v] ? v : (JsonElement?)null, Patience, "the registered version");
        Assert.Equal(run.GetProperty("id").GetGuid(), version!.Value.GetProperty("runId").GetGuid());
    }

    [Fact]
    public async Task TrainerKilledMidRun_RunIsRetriedOnce_OneVersionResults()
    {
        const string dataset = "killed-mid-run";
        using var registry = system.Client("Registry");
        await ConfigureAsync(dataset, new { trigger = "manual" });
        var batch = await UploadAsync(dataset, ChurnData.Csv(3000, seed: 21));
        await WaitForBatchesAsync(dataset, 1);

        // Long enough that a kill lands mid-run: epochs for about eight seconds at the measured speed.
        var epochs = await EpochsForAsync(dataset, seconds: 8);
        await using var progress = await ProgressListener.StartAsync(system);
        await PutPolicyAsync(dataset, new { trigger = "batches", everyBatches = 1, epochs });
        var midRun = await system.EventuallyAsync(async () =>
        {
            await Task.Yield();
            return progress.For(dataset).FirstOrDefault(e => !e.Completed);
        }, Patience, "progress of the first run");

        system["Trainer"].Kill();
        Assert.True(system["Trainer"].HasExited);
        // Nothing half-registered: the run's record and its ModelTrained commit together or not at all.
        Assert.Empty((await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/versions"))!);

        await system.RestartAsync("Trainer");
        using var trainer = system.Client("Trainer");
        var job = await system.EventuallyAsync(async () =>
            (await trainer.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/jobs"))!.SingleOrDefault(j => j.GetProperty("status").GetString() == "done") is { ValueKind: JsonValueKind.Object } j ? (JsonElement?)j : null,
            Patience, "the retried run")!;
        var runs = (await trainer.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/runs"))!;

        Assert.Equal(2, job!.Value.GetProperty("attempts").GetInt32());
        var run = Assert.Single(runs);
        Assert.NotEqual(midRun.RunId, run.GetProperty("id").GetGuid());
        Assert.Equal(run.GetProperty("id").GetGuid(), job.Value.GetProperty("runId").GetGuid());
        Assert.Equal([batch], BatchIds(run));
        var version = await system.EventuallyAsync(async () =>
            await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/versions") is { Count: > 0 } v ? v : null, Patience, "the registered version");
        Assert.Equal(run.GetProperty("id").GetGuid(), Assert.Single(version).GetProperty("runId").GetGuid());
    }

    [Fact]
    public async Task BatchQuarantinedAfterAcceptance_IsExcludedFromEveryLaterRun()
    {
        const string dataset = "quarantined-later";
        using var trainer = system.Client("Trainer");
        using var registry = system.Client("Registry");
        await ConfigureAsync(dataset, new { trigger = "batches", everyBatches = 1 });
        var b1 = await UploadAsync(dataset, ChurnData.Csv(150, seed: 31));
        await WaitForRunsAsync(dataset, 1);
        var b2 = await UploadAsync(dataset, ChurnData.Csv(150, seed: 32));
        await WaitForRunsAsync(dataset, 2);

        // An operator quarantines b1 after it was accepted and trained on.
        var bus = await system.BusAsync();
        await bus.Publish(new BatchQuarantined
        {
            BatchId = b1,
            Dataset = dataset,
            CorrelationId = Guid.NewGuid(),
            Reasons = [new Anomaly { Kind = "operator", Description = "labels found wrong after the fact" }],
            Operator = "test",
            QuarantinedAt = DateTimeOffset.UtcNow,
        });
        await system.EventuallyAsync(async () =>
            (await trainer.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/batches"))!.Any(b => b.GetProperty("batchId").GetGuid() == b1 && b.GetProperty("excluded").GetBoolean()) ? "" : null,
            Patience, "b1 excluded");

        var b3 = await UploadAsync(dataset, ChurnData.Csv(150, seed: 33));
        await WaitForRunsAsync(dataset, 3);
        await bus.Publish(new RequestRetrain { RequestId = Guid.NewGuid(), Dataset = dataset, FullRetrain = true, RequestedBy = "test", CorrelationId = Guid.NewGuid() });
        var runs = await WaitForRunsAsync(dataset, 4);

        Assert.Equal(new[] { b1, b2 }.Order(), BatchIds(runs[1]).Order());
        Assert.All(runs.Skip(2), r => Assert.DoesNotContain(b1, BatchIds(r)));
        Assert.Equal(new[] { b2, b3 }.Order(), BatchIds(runs[2]).Order());
        Assert.Null(NullableInt(runs[2], "parentVersion")); // not even through a warm start from a version that saw b1
        Assert.Equal(new[] { b2, b3 }.Order(), BatchIds(runs[3]).Order());
        Assert.Null(NullableInt(runs[3], "parentVersion")); // the request asked for a full retrain
        var versions = await system.EventuallyAsync(async () =>
            await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/versions") is { Count: 4 } v ? v : null, Patience, "four versions");
        Assert.All(versions.Skip(2), v => Assert.DoesNotContain(b1, BatchIds(v)));
    }

    [Fact]
    public async Task BatchesDiscardedOrDeclaredCorrupt_AreNeverTrainedOn_AndARequestTrainsUnderAManualPolicy()
    {
        const string dataset = "discarded-corrupt";
        using var trainer = system.Client("Trainer");
        await ConfigureAsync(dataset, new { trigger = "manual" });
        var b1 = await UploadAsync(dataset, ChurnData.Csv(100, seed: 41));
        var b2 = await UploadAsync(dataset, ChurnData.Csv(100, seed: 42));
        var b3 = await UploadAsync(dataset, ChurnData.Csv(100, seed: 43));
        await WaitForBatchesAsync(dataset, 3);

        var bus = await system.BusAsync();
        await bus.Publish(new BatchDiscarded { BatchId = b1, Dataset = dataset, Operator = "test", Reason = "duplicate upload", CorrelationId = Guid.NewGuid(), DiscardedAt = DateTimeOffset.UtcNow });
        await bus.Publish(new BatchDeclaredCorrupt { BatchId = b2, Dataset = dataset, Operator = "test", Reason = "sensor fault", TaintedVersions = [], CorrelationId = Guid.NewGuid(), DeclaredAt = DateTimeOffset.UtcNow });
        await system.EventuallyAsync(async () =>
            (await trainer.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/batches"))!.Count(b => b.GetProperty("excluded").GetBoolean()) == 2 ? "" : null,
            Patience, "b1 and b2 excluded");
        Assert.Empty((await trainer.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/runs"))!);

        // The same request twice is one job and one run.
        var request = new RequestRetrain { RequestId = Guid.NewGuid(), Dataset = dataset, RequestedBy = "test", CorrelationId = Guid.NewGuid() };
        await bus.Publish(request);
        await bus.Publish(request);
        var runs = await WaitForRunsAsync(dataset, 1);
        var jobs = await system.EventuallyAsync(async () =>
            await trainer.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/jobs") is { } l && l.All(j => j.GetProperty("status").GetString() == "done") ? l : null,
            Patience, "every job answered");

        Assert.Equal([b3], BatchIds(Assert.Single(runs)));
        Assert.Equal(4, jobs.Count);
        Assert.Single(jobs, j => j.GetProperty("triggerKey").GetString() == $"retrain:{request.RequestId}");
    }

    [Fact]
    public async Task Run_PublishesProgressEndingWithTheRun_AndJudgesItAgainstTheServingVersionOnFreshRows()
    {
        const string dataset = "progress";
        using var trainer = system.Client("Trainer");
        using var registry = system.Client("Registry");
        await ConfigureAsync(dataset, new { trigger = "manual" });
        var b1 = await UploadAsync(dataset, ChurnData.Csv(1000, seed: 51));
        await WaitForBatchesAsync(dataset, 1);
        var epochs = await EpochsForAsync(dataset, seconds: 3);
        await using var progress = await ProgressListener.StartAsync(system);
        await PutPolicyAsync(dataset, new { trigger = "batches", everyBatches = 1, epochs });

        var first = (await WaitForRunsAsync(dataset, 1))[0];
        var firstId = first.GetProperty("id").GetGuid();
        var events = await system.EventuallyAsync(async () =>
        {
            await Task.Yield();
            var mine = progress.For(dataset).Where(e => e.RunId == firstId).ToList();
            return mine.Any(e => e.Completed) ? mine : null;
        }, Patience, "the completed event");
        Assert.Contains(events, e => !e.Completed && e.Epoch >= 1 && e.Epochs == epochs);
        Assert.True(events[^1].Completed);
        Assert.Single(events, e => e.Completed);
        Assert.Equal(events.Select(e => e.Epoch).Order(), events.Select(e => e.Epoch));

        using (var svg = await trainer.GetAsync($"v1/runs/{firstId}/loss.svg"))
        {
            Assert.Equal(HttpStatusCode.OK, svg.StatusCode);
            Assert.Equal("image/svg+xml", svg.Content.Headers.ContentType?.MediaType);
            var body = await svg.Content.ReadAsStringAsync();
            Assert.StartsWith("<svg", body, StringComparison.Ordinal);
            Assert.Contains("<polyline", body, StringComparison.Ordinal);
        }

        // Once the Trainer knows v1 serves, the next run is judged against it on the newest batch's held-out rows.
        var v1 = await system.EventuallyAsync(async () =>
            await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/versions") is { Count: 1 } v ? (int?)v[0].GetProperty("version").GetInt32() : null, Patience, "v1");
        await system.EventuallyAsync(async () =>
        {
            var response = await trainer.GetAsync($"v1/datasets/{dataset}/serving");
            return response.IsSuccessStatusCode && (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetInt32() == v1 ? "" : null;
        }, Patience, "the Trainer to hear v1 serves");
        var b2 = await UploadAsync(dataset, ChurnData.Csv(1000, seed: 52));
        var second = (await WaitForRunsAsync(dataset, 2))[1];

        Assert.Equal(new[] { b1, b2 }.Order(), BatchIds(second).Order());
        Assert.Equal(b2, second.GetProperty("holdoutBatchId").GetGuid());
        Assert.Equal(v1, second.GetProperty("baselineVersion").GetInt32());
        Assert.Equal(v1, second.GetProperty("parentVersion").GetInt32());
        Assert.Equal("warm-update", second.GetProperty("mode").GetString());
        Assert.Equal(200, second.GetProperty("baselineMetrics").GetProperty("rows").GetDouble());
        Assert.Equal(200, second.GetProperty("metrics").GetProperty("overall").GetProperty("count").GetInt32());
        Assert.Equal("cpu", second.GetProperty("device").GetString());
    }

    private async Task ConfigureAsync(string dataset, object policy)
    {
        using var validator = system.Client("Validator");
        (await validator.PutAsJsonAsync($"v1/datasets/{dataset}/config", new { labelColumn = "churned", task = "binary" })).EnsureSuccessStatusCode();
        await PutPolicyAsync(dataset, policy);
    }

    private async Task PutPolicyAsync(string dataset, object policy)
    {
        using var trainer = system.Client("Trainer");
        var response = await trainer.PutAsJsonAsync($"v1/datasets/{dataset}/policy", policy);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Epochs that take about <paramref name="seconds"/> on this machine now, from the estimate mode.</summary>
    private async Task<int> EpochsForAsync(string dataset, double seconds)
    {
        using var trainer = system.Client("Trainer");
        var response = await trainer.PostAsJsonAsync($"v1/datasets/{dataset}/estimate", new { epochs = 1 });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var estimate = await response.Content.ReadFromJsonAsync<JsonElement>();
        var perSecond = estimate.GetProperty("samplesPerSecond").GetDouble();
        var rows = estimate.GetProperty("rows").GetInt32();
        Assert.True(perSecond > 0 && rows > 0, estimate.ToString());
        return (int)Math.Clamp(seconds * perSecond / rows, 20, 100_000);
    }

    private async Task<Guid> UploadAsync(string dataset, string csv)
    {
        using var ingest = system.Client("Ingest");
        using var content = new StringContent(csv, Encoding.UTF8, "text/csv");
        var response = await ingest.PostAsync($"v1/datasets/{dataset}/batches", content);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("batchId").GetGuid();
    }

    private async Task WaitForBatchesAsync(string dataset, int count)
    {
        using var trainer = system.Client("Trainer");
        await system.EventuallyAsync(async () =>
            await trainer.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/batches") is { } l && l.Count == count ? l : null, Patience, $"{count} batches at the Trainer");
    }

    private async Task<List<JsonElement>> WaitForRunsAsync(string dataset, int count)
    {
        using var trainer = system.Client("Trainer");
        return await system.EventuallyAsync(async () =>
            await trainer.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/runs") is { } l && l.Count >= count ? l : null, Patience, $"{count} runs");
    }

    private static int? NullableInt(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v.GetInt32() : null;

    private static List<Guid> BatchIds(JsonElement runOrVersion) => [.. runOrVersion.GetProperty("batchIds").EnumerateArray().Select(b => b.GetGuid())];
}


