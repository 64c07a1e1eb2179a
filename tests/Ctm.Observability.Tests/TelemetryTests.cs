using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Ctm.Testing;

namespace Ctm.Observability.Tests;

/// <summary>What an engineer chasing a batch sees: one trace across the five services, metrics on /metrics, trace ids in the logs.</summary>
public sealed class TelemetryTests(TracedSystem system) : IClassFixture<TracedSystem>
{
    private const string Dataset = "churn-telemetry";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(150);

    [Fact]
    public async Task OneUpload_IsOneTrace_ThroughIngestValidatorTrainerRegistryAndPredictor()
    {
        var (batchId, traceId) = await UploadOnceAsync();

        // Spans arrive in export batches from five processes: wait until the trace is whole, then check its shape.
        var spans = await system.EventuallyAsync(() =>
        {
            var trace = system.Collector.Spans.Where(s => s.TraceId == traceId).ToList();
            var complete = CtmSystem.ServiceNames.All(n => trace.Any(s => s.Service == n)) && Roots(trace).Count == 1;
            return Task.FromResult(complete ? trace : null);
        }, Patience, $"one tree of spans with trace id {traceId} from all five services");

        Assert.Equal(CtmSystem.ServiceNames.Order(StringComparer.Ordinal), spans.Select(s => s.Service).Distinct().Order(StringComparer.Ordinal));
        // The hops a user would look for: the Validator consumed this batch, the Trainer ran, the Predictor loaded the promotion.
        Assert.Contains(spans, s => s.Service == "Validator" && s.Kind == "Consumer" && s.Attributes.GetValueOrDefault("ctm.batch_id") == batchId.ToString());
        Assert.Contains(spans, s => s.Service == "Trainer" && s.Name == $"train {Dataset}");
        Assert.Contains(spans, s => s.Service == "Predictor" && s.Kind == "Consumer" && s.Attributes.GetValueOrDefault("ctm.dataset") == Dataset);
        // Every span but the upload's own has its parent inside the trace: one tree, not five trees that share an id.
        var root = Assert.Single(Roots(spans));
        Assert.Equal(("Ingest", "Server"), (root.Service, root.Kind));
    }

    [Fact]
    public async Task AfterAnUploadAndAPrediction_EachServiceShowsItsNumbersOnMetrics()
    {
        await UploadOnceAsync();
        using var predictor = system.Client("Predictor");
        await system.EventuallyAsync<HttpResponseMessage>(async () =>
        {
            var response = await predictor.PostAsJsonAsync($"v1/models/{Dataset}:predict", new
            {
                instances = new object[] { new { tenure = 2, plan = "basic", monthly_fee = 95.0, support_calls = 6 } },
            });
            return response.IsSuccessStatusCode ? response : null;
        }, Patience, "a prediction");

        await ExpectMetricAsync("Ingest", "ctm_ingest_batches_total", Dataset);
        await ExpectMetricAsync("Validator", "ctm_validator_batches_total", "decision=\"accepted\"");
        await ExpectMetricAsync("Trainer", "ctm_trainer_run_duration_seconds_count", "outcome=\"trained\"");
        await ExpectMetricAsync("Registry", "ctm_registry_promotions_total", "reason=\"trained\"");
        await ExpectMetricAsync("Predictor", "ctm_predictor_prediction_duration_seconds_count", Dataset);
        await ExpectMetricAsync("Predictor", "ctm_predictor_cache_misses_total", Dataset);
        await ExpectMetricAsync("Ingest", "ctm_outbox_lag_seconds_count", "BatchIngested");
        await ExpectMetricAsync("Validator", "http_server_request_duration_seconds_count", "http_route=");
    }

    [Fact]
    public async Task ValidatorLogLines_CarryTheTraceIdAndTheBatchId()
    {
        var (batchId, traceId) = await UploadOnceAsync();
        var line = await system.EventuallyAsync(
            () => Task.FromResult(system["Validator"].Log.FirstOrDefault(l => l.Contains(traceId, StringComparison.Ordinal) && l.Contains(batchId.ToString(), StringComparison.Ordinal))),
            Patience, $"a Validator log line with trace {traceId} and batch {batchId}");
        Assert.Contains("ctm.batch_id", line, StringComparison.Ordinal);
    }

    private static List<ReceivedSpan> Roots(List<ReceivedSpan> trace)
    {
        var ids = trace.Select(s => s.SpanId).ToHashSet(StringComparer.Ordinal);
        return trace.Where(s => s.ParentSpanId.Length == 0 || !ids.Contains(s.ParentSpanId)).ToList();
    }

    private async Task ExpectMetricAsync(string service, string metric, string labelText)
    {
        using var client = system.Client(service);
        await system.EventuallyAsync(async () =>
        {
            var page = await client.GetStringAsync("metrics");
            return page.Split('\n').FirstOrDefault(l => l.StartsWith(metric, StringComparison.Ordinal) && l.Contains(labelText, StringComparison.Ordinal)
                && double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture) > 0);
        }, TimeSpan.FromSeconds(30), $"{metric} with {labelText} above zero on {service}'s /metrics");
    }

    /// <summary>The class's one upload (the tests share the system and so its data); returns the batch and the upload's trace id.</summary>
    private async Task<(Guid BatchId, string TraceId)> UploadOnceAsync()
    {
        await system.UploadLock.WaitAsync();
        try
        {
            if (system.Upload is { } done)
            {
                return done;
            }

            using var validator = system.Client("Validator");
            (await validator.PutAsJsonAsync($"v1/datasets/{Dataset}/config", new { labelColumn = "churned", task = "binary" })).EnsureSuccessStatusCode();
            using var ingest = system.Client("Ingest");
            using var content = new StringContent(ChurnData.Csv(400, seed: 11), Encoding.UTF8, "text/csv");
            var response = await ingest.PostAsync($"v1/datasets/{Dataset}/batches", content);
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
            var batchId = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("batchId").GetGuid();
            var upload = await system.EventuallyAsync(
                () => Task.FromResult(system.Collector.Spans.FirstOrDefault(s => s.Service == "Ingest" && s.Kind == "Server" && s.Attributes.GetValueOrDefault("ctm.batch_id") == batchId.ToString())),
                Patience, $"the Ingest server span of the upload of batch {batchId}");
            system.Upload = (batchId, upload.TraceId);
            return (batchId, upload.TraceId);
        }
        finally
        {
            system.UploadLock.Release();
        }
    }
}
