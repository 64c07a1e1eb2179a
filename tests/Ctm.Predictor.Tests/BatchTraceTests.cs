using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Ctm.Ml;
using Ctm.Ml.Engine;
using Ctm.Onnx;
using Ctm.Predictor.Inference;

namespace Ctm.Predictor.Tests;

/// <summary>One prediction request followed through micro-batching: the batch's span links to each request's span.</summary>
public sealed class BatchTraceTests
{
    [Fact]
    public async Task MicroBatch_TwoRequestsInOneBatch_BatchSpanLinksBothRequestsWithSizeAndVersion()
    {
        var batches = new ConcurrentQueue<Activity>();
        using var requests = new ActivitySource("Ctm.Predictor.Tests.Requests");
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name is PredictorTelemetry.SourceName or "Ctm.Predictor.Tests.Requests",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                if (a.Source.Name == PredictorTelemetry.SourceName)
                {
                    batches.Enqueue(a);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        using var session = OnnxSession.Create(Model());
        var signature = ModelSignature.From(session);
        var executor = new BatchExecutor(session, signature);

        // Two rows per batch at most, and a long wait for the second: both requests go into one batch, whatever the machine's pace.
        var batcher = new MicroBatcher(executor, new BatchingSettings(2, TimeSpan.FromSeconds(60), 1, 16), "churn", 7);
        var (first, firstSpan) = Enqueue(batcher, signature, requests, """{"x1": 1.5, "x2": -2}""");
        var (second, secondSpan) = Enqueue(batcher, signature, requests, """{"x1": null, "x2": 0.25}""");
        await Task.WhenAll(first.Task, second.Task).WaitAsync(TimeSpan.FromSeconds(120));
        await batcher.StopAsync();

        var batch = Assert.Single(batches);
        Assert.Equal(PredictorTelemetry.BatchActivity, batch.OperationName);
        Assert.Equal(default, batch.ParentSpanId);
        Assert.Equal([firstSpan, secondSpan], batch.Links.Select(l => l.Context.SpanId));
        Assert.Equal([first.RequestContext.TraceId, second.RequestContext.TraceId], batch.Links.Select(l => l.Context.TraceId));
        Assert.Equal(2, batch.GetTagItem("ctm.batch.rows"));
        Assert.Equal(2, batch.GetTagItem("ctm.batch.requests"));
        Assert.Equal("churn", batch.GetTagItem("ctm.dataset"));
        Assert.Equal(7, batch.GetTagItem("ctm.model.version"));
        Assert.Equal(ActivityStatusCode.Unset, batch.Status);
        Assert.NotNull(first.Results[0]);
    }

    private static (WorkItem Item, ActivitySpanId Span) Enqueue(MicroBatcher batcher, ModelSignature signature, ActivitySource requests, string instance)
    {
        // The request's span is current while its rows are queued, as in the HTTP handler.
        using var request = requests.StartActivity("POST /v1/models/churn:predict", ActivityKind.Server)!;
        var block = new RowBlock(signature, 1);
        block.AddInstance(JsonDocument.Parse(instance).RootElement, 0);
        var item = new WorkItem(block, null);
        Assert.True(batcher.TryEnqueue(item));
        return (item, request.SpanId);
    }

    private static byte[] Model()
    {
        var random = new Random(4);
        const int n = 200;
        var x1 = Enumerable.Range(0, n).Select(_ => random.NextDouble() * 4).ToArray();
        var x2 = Enumerable.Range(0, n).Select(_ => random.NextDouble() - 0.5).ToArray();
        var y = Enumerable.Range(0, n).Select(i => (string?)(x1[i] + x2[i] > 2 ? "yes" : "no")).ToArray();
        var data = TabularDataset.CreateBuilder().AddNumeric("x1", x1).AddNumeric("x2", x2).WithLabel("y", y).Build();
        return new ManagedTrainingEngine().Train(data, new TrainingOptions { Task = ModelTask.BinaryClassification, HiddenLayers = [4], Epochs = 2 }).ToOnnx();
    }
}
