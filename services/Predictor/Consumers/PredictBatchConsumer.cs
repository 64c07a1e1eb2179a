using System.Text.Json;
using Ctm.Contracts;
using Ctm.Predictor.Inference;
using Ctm.Predictor.Models;
using MassTransit;

namespace Ctm.Predictor.Consumers;

/// <summary>
/// Batch prediction over the bus: one replica (a queue shared by all: competing consumers) answers each
/// <see cref="RequestPredictions"/> with one <see cref="PredictionsComputed"/> per chunk, every prediction keyed.
/// An instance that does not fit the model gets an error in its place; the rest of its chunk is predicted.
/// </summary>
public sealed class PredictBatchConsumer(Predictions predictions, ReplicaIdentity replica) : IConsumer<RequestPredictions>
{
    public const string QueueName = "predictor-predictions";

    public async Task Consume(ConsumeContext<RequestPredictions> context)
    {
        var request = context.Message;
        var size = Math.Clamp(request.ChunkSize ?? 500, 1, predictions.Options.MaxInstancesPerRequest);
        var count = Math.Max(1, (request.Instances.Count + size - 1) / size);
        for (var chunk = 0; chunk < count; chunk++)
        {
            var instances = request.Instances.Skip(chunk * size).Take(size).ToList();
            var (version, results) = await PredictChunkAsync(request.Dataset, request.Version, instances, context.CancellationToken);
            await context.Publish(new PredictionsComputed
            {
                RequestId = request.RequestId,
                Dataset = request.Dataset,
                ModelVersion = version,
                ChunkIndex = chunk,
                ChunkCount = count,
                Predictions = results,
                Replica = replica.Name,
                CorrelationId = request.CorrelationId,
            }, context.CancellationToken);
        }
    }

    private async Task<(int? Version, List<KeyedPrediction> Results)> PredictChunkAsync(string dataset, int? version, List<KeyedInstance> instances, CancellationToken ct)
    {
        using var lease = await predictions.AcquireAsync(dataset, version, ct);
        if (lease is null)
        {
            var error = Predictions.NotFound(dataset, version);
            return (null, [.. instances.Select(i => new KeyedPrediction { Key = i.Key, Error = error })]);
        }

        var model = lease.Model;
        if (model.Signature is null)
        {
            var error = $"{dataset} v{model.Version} takes whole tensors, not keyed instances ({model.TensorsOnlyReason}); use the Open Inference Protocol or TF Serving's columnar form over HTTP";
            return (model.Version, [.. instances.Select(i => new KeyedPrediction { Key = i.Key, Error = error })]);
        }

        var errors = new string?[instances.Count];
        var rowOf = new int[instances.Count];
        var block = new RowBlock(model.Signature, instances.Count);
        for (var i = 0; i < instances.Count; i++)
        {
            rowOf[i] = -1;
            try
            {
                using var json = JsonDocument.Parse(instances[i].Json);
                block.AddInstance(json.RootElement, i);
                rowOf[i] = block.Count - 1;
                block.SetKey(rowOf[i], JsonSerializer.Serialize(instances[i].Key)); // kept for label feedback (ServedPredictionRecorder)
            }
            catch (Exception e) when (e is JsonException or PredictionInputException)
            {
                errors[i] = e.Message;
            }
        }

        Prediction[] answers;
        try
        {
            answers = block.Count == 0 ? [] : await PredictWithBackPressureAsync(model, block, ct);
        }
        catch (Exception e) when (e is PredictionInputException or ServingFaultException)
        {
            return (model.Version, [.. instances.Select((x, i) => new KeyedPrediction { Key = x.Key, Error = errors[i] ?? e.Message })]);
        }

        var results = new List<KeyedPrediction>(instances.Count);
        for (var i = 0; i < instances.Count; i++)
        {
            results.Add(rowOf[i] < 0
                ? new KeyedPrediction { Key = instances[i].Key, Error = errors[i] }
                : new KeyedPrediction { Key = instances[i].Key, Json = System.Text.Encoding.UTF8.GetString(answers[rowOf[i]].TfJson) });
        }

        return (model.Version, results);
    }

    private async Task<Prediction[]> PredictWithBackPressureAsync(LoadedModel model, RowBlock block, CancellationToken ct)
    {
        // The bus can wait where HTTP answers 503: back off while the queue is full (the lease keeps the model alive).
        for (var delay = 5; ; delay = Math.Min(delay * 2, 500))
        {
            try
            {
                return await predictions.PredictAsync(model, block);
            }
            catch (ServingOverloadedException)
            {
                await Task.Delay(delay, ct);
            }
        }
    }
}
