using System.Security.Claims;
using Ctm.ServiceDefaults.Auth;
using Ctm.Ml;
using Ctm.Ml.Engine;
using Ctm.Trainer.Extensions;
using Ctm.Trainer.Policies;
using Ctm.Trainer.Storage;
using Ctm.Trainer.Training;
using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Ctm.Trainer.Apis;

/// <summary>Per dataset: the training policy, an estimate of the next run, and retraining on request.</summary>
public static class DatasetsApi
{
    public static IEndpointRouteBuilder MapDatasetsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/datasets/{dataset}").RequireAuthorization(CtmPolicies.Read);
        api.MapGet("/policy", GetPolicyAsync);
        api.MapPut("/policy", PutPolicyAsync).RequireAuthorization(CtmPolicies.Operate);
        // An estimate trains for a while: it spends the compute the trainer needs, so only operators ask for one.
        api.MapPost("/estimate", EstimateAsync).RequireAuthorization(CtmPolicies.Operate);
        api.MapPost("/retrain", RetrainAsync).RequireAuthorization(CtmPolicies.Operate);
        api.MapGet("/batches", ListBatchesAsync);
        api.MapGet("/serving", GetServingAsync);
        return app;
    }

    public static async Task<Ok<TrainingPolicy>> GetPolicyAsync(string dataset, TrainerDbContext db, CancellationToken ct) =>
        TypedResults.Ok(TrainingPolicy.From(await db.Policies.AsNoTracking().SingleOrDefaultAsync(p => p.Dataset == dataset, ct)));

    public static async Task<Results<Ok<TrainingPolicy>, ValidationProblem>> PutPolicyAsync(
        string dataset, TrainingPolicy policy, TrainerDbContext db, TrainingSignal signal, TimeProvider clock, CancellationToken ct)
    {
        var errors = policy.Validate();
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var record = await db.Policies.SingleOrDefaultAsync(p => p.Dataset == dataset, ct);
        if (record is null)
        {
            record = new TrainingPolicyRecord { Dataset = dataset, Trigger = policy.Trigger, WindowKind = policy.Window };
            db.Policies.Add(record);
        }

        policy.CopyTo(record);
        record.UpdatedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(ct);
        signal.Notify(); // waiting batches may be due under the new policy
        return TypedResults.Ok(policy);
    }

    /// <summary>
    /// What the next run would cost, from a short warm-up on the data it would train on (every clean batch known now,
    /// in the policy's window, warm-started like a run), without training it.
    /// </summary>
    public static async Task<Results<Ok<EstimateDto>, NotFound<string>>> EstimateAsync(
        string dataset, EstimateRequest? body, TrainerDbContext db, TrainingDataLoader loader, TrainingDevice device, IOptions<TrainerOptions> settings, CancellationToken ct)
    {
        var options = settings.Value;
        var policy = TrainingPolicy.From(await db.Policies.AsNoTracking().SingleOrDefaultAsync(p => p.Dataset == dataset, ct));
        var set = await loader.LoadAsync(dataset, cutoffSeq: null, policy, ct);
        if (set is null)
        {
            return TypedResults.NotFound($"{dataset} has no clean batch to train on");
        }

        ModelState? warmStart = null;
        int? parent = null;
        if (policy.WarmStart && await db.Serving.AsNoTracking().SingleOrDefaultAsync(s => s.Dataset == dataset, ct) is { RunId: { } runId } serving
            && await db.Runs.AsNoTracking().Where(r => r.Id == runId && r.SchemaVersion == set.SchemaVersion).Select(r => r.State).SingleOrDefaultAsync(ct) is { } bytes)
        {
            var state = ModelState.FromBytes(bytes);
            if (state.Task == set.Task && state.Features.SequenceEqual(set.Features))
            {
                (warmStart, parent) = (state, serving.Version);
            }
        }

        var epochs = body?.Epochs ?? policy.Epochs ?? options.Epochs;
        var trainingOptions = new TrainingOptions
        {
            Task = set.Task,
            HiddenLayers = options.EffectiveHiddenLayers,
            Epochs = epochs,
            BatchSize = policy.BatchSize ?? options.BatchSize,
            LearningRate = options.LearningRate,
            Seed = options.Seed,
            MaxThreads = options.MaxThreads,
        };
        var (train, _, _) = set.Split(options.HoldoutFraction);
        var warmup = body?.WarmupMilliseconds is { } ms ? TimeSpan.FromMilliseconds(Math.Clamp(ms, 50, 10_000)) : (TimeSpan?)null;
        var choice = device.Choose(policy, TrainingEngines.StepMultiplyAdds(
            trainingOptions.BatchSize, set.Features.Count, trainingOptions.HiddenLayers, outputs: 1));
        var estimate = await Task.Run(() => choice.Engine.Estimate(train, trainingOptions, warmStart, warmup, ct), ct);
        return TypedResults.Ok(new EstimateDto(
            dataset, set.Batches.Count, train.RowCount, epochs, choice.Device, choice.Engine.Name, parent, set.Window,
            estimate.SamplesPerSecond, estimate.ProjectedDuration.TotalSeconds, estimate.CpuUtilization, estimate.PeakMemoryBytes,
            estimate.ParameterCount, estimate.WarmupDuration.TotalSeconds, estimate.WarmupSamples));
    }

    /// <summary>The batches as the Trainer knows them, in its order, with exclusions.</summary>
    public static async Task<Ok<List<BatchDto>>> ListBatchesAsync(string dataset, TrainerDbContext db, CancellationToken ct) =>
        TypedResults.Ok(await db.Batches.AsNoTracking().Where(b => b.Dataset == dataset).OrderBy(b => b.Seq)
            .Select(b => new BatchDto(b.BatchId, b.Seq, b.RowCount, b.SchemaVersion, b.AcceptedAt, b.Excluded, b.ExcludedReason)).ToListAsync(ct));

    /// <summary>The serving version as the Trainer last heard of it: the default parent and baseline of the next run.</summary>
    public static async Task<Results<Ok<ServingVersion>, NotFound>> GetServingAsync(string dataset, TrainerDbContext db, CancellationToken ct) =>
        await db.Serving.AsNoTracking().SingleOrDefaultAsync(s => s.Dataset == dataset, ct) is { } serving ? TypedResults.Ok(serving) : TypedResults.NotFound();

    /// <summary>The HTTP form of <c>RequestRetrain</c>: a job due at once.</summary>
    public static async Task<Accepted<TrainingJob>> RetrainAsync(
        string dataset, RetrainRequest? body, ClaimsPrincipal user, TrainerDbContext db, TrainingSignal signal, TimeProvider clock, CancellationToken ct)
    {
        var requestId = body?.RequestId ?? NewId.NextGuid();
        var job = await RetrainRequests.RecordAsync(db, requestId, dataset, body?.FromVersion, body?.FullRetrain ?? false, user.Actor(body?.RequestedBy), requestId, clock.GetUtcNow(), ct);
        signal.Notify();
        return TypedResults.Accepted($"/v1/datasets/{dataset}/jobs", job);
    }
}

public sealed record EstimateRequest(int? Epochs, double? WarmupMilliseconds);

public sealed record RetrainRequest(Guid? RequestId, int? FromVersion, bool? FullRetrain, string? RequestedBy);

public sealed record EstimateDto(
    string Dataset, int Batches, int Rows, int Epochs, string Device, string Engine, int? WarmStartFrom, string Window,
    double SamplesPerSecond, double ProjectedSeconds, double CpuUtilization, long PeakMemoryBytes, long ParameterCount,
    double WarmupSeconds, long WarmupSamples);

public sealed record BatchDto(Guid BatchId, long Seq, long RowCount, int SchemaVersion, DateTimeOffset AcceptedAt, bool Excluded, string? ExcludedReason);
