using Ctm.ServiceDefaults.Auth;
using Ctm.Trainer.Extensions;
using Ctm.Trainer.Quality;
using Ctm.Trainer.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Ctm.Trainer.Apis;

/// <summary>
/// Label feedback of a dataset: what was joined, what storage let go unjoined (counted, never silent), what waits now;
/// and the dataset's quality settings: the key column of its labeled batches, and the slices an operator named.
/// </summary>
public static class FeedbackApi
{
    public static IEndpointRouteBuilder MapFeedbackApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/datasets/{dataset}").RequireAuthorization(CtmPolicies.Read);
        api.MapGet("/feedback", GetFeedbackAsync);
        api.MapGet("/quality/settings", GetSettingsAsync);
        api.MapPut("/quality/settings", PutSettingsAsync).RequireAuthorization(CtmPolicies.Operate);
        return app;
    }

    /// <param name="KeyColumn">The column of this dataset's labeled batches that carries the example key, or null (labels then come only as events).</param>
    /// <param name="Slices">Slices scored on every labeled batch beside the automatic ones (feature = value, or a numeric range [min, max)).</param>
    public sealed record QualitySettingsDto(string? KeyColumn, IReadOnlyList<NamedSlice>? Slices);

    /// <summary>Counters since the dataset's first prediction or label.</summary>
    /// <param name="PredictionsReceived">Keyed predictions stored (one per key, version and role).</param>
    /// <param name="PredictionsDuplicate">Reported again (a redelivery or a repeated key for the same version and role), not stored twice.</param>
    /// <param name="PredictionsDropped">Predictors could not report them (their queue was full or the bus refused).</param>
    /// <param name="PredictionsJoined">Predictions joined to a label (a key served by serving and shadow counts for both).</param>
    /// <param name="PredictionsExpiredUnlabeled">Left the window without a label.</param>
    /// <param name="PredictionsEvictedUnlabeled">Pushed out by the row cap without a label.</param>
    /// <param name="LabelsReceived">Labels stored (the first per key).</param>
    /// <param name="LabelsDuplicate">Labels for a key already labeled: counted once, the first kept.</param>
    /// <param name="LabelsJoined">Keys whose label joined at least one prediction.</param>
    /// <param name="LabelsWithoutPrediction">Labels that left the window (or the cap) with no prediction joined.</param>
    public sealed record FeedbackCountersView(
        long PredictionsReceived, long PredictionsDuplicate, long PredictionsDropped, long PredictionsJoined, long PredictionsExpiredUnlabeled,
        long PredictionsEvictedUnlabeled, long LabelsReceived, long LabelsDuplicate, long LabelsJoined, long LabelsWithoutPrediction);

    /// <param name="Predictions">Predictions stored now.</param>
    /// <param name="PredictionsUnlabeled">Of them, waiting for a label.</param>
    /// <param name="PredictionsAwaitingScore">Joined, not yet in a point of the quality series.</param>
    /// <param name="LabelsWaiting">Labels stored now with no prediction joined yet.</param>
    public sealed record FeedbackStoredView(long Predictions, long PredictionsUnlabeled, long PredictionsAwaitingScore, long LabelsWaiting);

    public sealed record FeedbackView(string Dataset, string? KeyColumn, double WindowHours, int MaxPredictionsPerDataset, FeedbackCountersView Counters, FeedbackStoredView Stored);

    public static async Task<Ok<FeedbackView>> GetFeedbackAsync(string dataset, TrainerDbContext db, IOptions<FeedbackOptions> settings, CancellationToken ct)
    {
        // One snapshot for the four reads: maintenance deletes rows and counts them in one transaction, and a reader
        // that saw the deletion but not the count (or the reverse) would report rows gone and nobody counting them.
        await using var snapshot = await db.Database.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        var c = await db.FeedbackCounters.AsNoTracking().SingleOrDefaultAsync(x => x.Dataset == dataset, ct) ?? new FeedbackCountersRecord { Dataset = dataset };
        var keyColumn = await db.QualityDatasets.AsNoTracking().Where(s => s.Dataset == dataset).Select(s => s.KeyColumn).SingleOrDefaultAsync(ct);
        var stored = await db.ServedPredictions.AsNoTracking().Where(p => p.Dataset == dataset).GroupBy(_ => 1)
            .Select(g => new { All = g.LongCount(), Unlabeled = g.LongCount(p => p.Truth == null), Awaiting = g.LongCount(p => p.Truth != null && !p.Scored) })
            .SingleOrDefaultAsync(ct);
        var waiting = await db.FeedbackLabels.AsNoTracking().LongCountAsync(l => l.Dataset == dataset && l.JoinedAt == null, ct);
        return TypedResults.Ok(new FeedbackView(dataset, keyColumn, settings.Value.WindowHours, settings.Value.MaxPredictionsPerDataset,
            new FeedbackCountersView(c.PredictionsReceived, c.PredictionsDuplicate, c.PredictionsDropped, c.PredictionsJoined, c.PredictionsExpired, c.PredictionsEvicted,
                c.LabelsReceived, c.LabelsDuplicate, c.LabelsJoined, c.LabelsExpired),
            new FeedbackStoredView(stored?.All ?? 0, stored?.Unlabeled ?? 0, stored?.Awaiting ?? 0, waiting)));
    }

    public static async Task<Ok<QualitySettingsDto>> GetSettingsAsync(string dataset, TrainerDbContext db, CancellationToken ct)
    {
        var record = await db.QualityDatasets.AsNoTracking().SingleOrDefaultAsync(s => s.Dataset == dataset, ct);
        return TypedResults.Ok(new QualitySettingsDto(record?.KeyColumn, record?.Slices ?? []));
    }

    public static async Task<Results<Ok<QualitySettingsDto>, ValidationProblem>> PutSettingsAsync(
        string dataset, QualitySettingsDto body, TrainerDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var keyColumn = string.IsNullOrWhiteSpace(body.KeyColumn) ? null : body.KeyColumn.Trim();
        var errors = NamedSlices.Validate(body.Slices);
        if (keyColumn is { Length: > 256 })
        {
            errors["keyColumn"] = ["must be at most 256 characters"];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "The quality settings are not usable");
        }

        var record = await db.QualityDatasets.SingleOrDefaultAsync(s => s.Dataset == dataset, ct);
        if (record is null)
        {
            db.QualityDatasets.Add(record = new QualityDatasetRecord { Dataset = dataset });
        }

        record.KeyColumn = keyColumn;
        // None is stored as null, as it always was.
        record.Slices = body.Slices is { Count: > 0 } slices ? [.. slices] : null;
        record.UpdatedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(new QualitySettingsDto(keyColumn, record.Slices ?? []));
    }
}
