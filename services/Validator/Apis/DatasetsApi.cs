using Ctm.ServiceDefaults.Auth;
using Ctm.ServiceDefaults.Storage;
using System.Text.Json;
using Ctm.Contracts;
using Ctm.Data.Statistics;
using Ctm.Validator.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Ctm.Validator.Apis;

public static class DatasetsApi
{
    public static IEndpointRouteBuilder MapDatasetsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1").RequireAuthorization(CtmPolicies.Read);
        api.MapPut("/datasets/{dataset}/config", PutConfigAsync).RequireAuthorization(CtmPolicies.Operate);
        api.MapGet("/datasets/{dataset}/config", GetConfigAsync);
        api.MapGet("/datasets/{dataset}/batches", ListBatchesAsync);
        api.MapGet("/batches/{id:guid}", GetBatchAsync);
        api.MapGet("/datasets/{dataset}/audit", ListAuditAsync);
        return app;
    }

    public static async Task<Results<Ok<DatasetConfigDto>, ProblemHttpResult>> PutConfigAsync(
        string dataset, DatasetConfigDto body, ValidatorDbContext db, TimeProvider clock, CancellationToken ct)
    {
        TaskKind? task = null;
        if (body.Task is not null)
        {
            if (!EnumText<TaskKind>.TryParse(body.Task, out var parsed))
            {
                return TypedResults.Problem(detail: $"task '{body.Task}' is not one of {string.Join(", ", EnumText<TaskKind>.All)}", statusCode: 400, title: "Invalid dataset config");
            }

            task = parsed;
        }

        var config = await db.Datasets.FindAsync([dataset], ct);
        if (config is null)
        {
            config = new DatasetConfig { Dataset = dataset };
            db.Datasets.Add(config);
        }

        config.LabelColumn = body.LabelColumn;
        config.Task = task;
        config.UpdatedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(body);
    }

    public static async Task<Results<Ok<DatasetConfigDto>, NotFound>> GetConfigAsync(string dataset, ValidatorDbContext db, CancellationToken ct)
    {
        var config = await db.Datasets.AsNoTracking().SingleOrDefaultAsync(d => d.Dataset == dataset, ct);
        return config is null ? TypedResults.NotFound() : TypedResults.Ok(new DatasetConfigDto(config.LabelColumn, config.Task is { } t ? EnumText<TaskKind>.Name(t) : null));
    }

    /// <summary>The dataset's batch decisions in decision order; <c>?status=quarantined</c> lists what awaits an operator.</summary>
    public static async Task<Ok<List<BatchDecisionDto>>> ListBatchesAsync(string dataset, string? status, ValidatorDbContext db, CancellationToken ct)
    {
        // A status no batch can have lists nothing, as it did when the column was compared as text.
        if (!EnumText<BatchStatus>.TryParseFilter(status, out var wanted))
        {
            return TypedResults.Ok(new List<BatchDecisionDto>());
        }

        var batches = await db.Batches.AsNoTracking().Where(b => b.Dataset == dataset && (wanted == null || b.Status == wanted)).OrderBy(b => b.DecidedAt).ToListAsync(ct);
        return TypedResults.Ok(batches.Select(ToDto).ToList());
    }

    public static async Task<Results<Ok<BatchDecisionDto>, NotFound>> GetBatchAsync(Guid id, ValidatorDbContext db, CancellationToken ct)
    {
        var batch = await db.Batches.AsNoTracking().SingleOrDefaultAsync(b => b.BatchId == id, ct);
        return batch is null ? TypedResults.NotFound() : TypedResults.Ok(ToDto(batch));
    }

    /// <summary>Who did what, when and why: releases, discards, schema changes, proposal decisions, thresholds.</summary>
    public static async Task<Ok<List<AuditDto>>> ListAuditAsync(string dataset, ValidatorDbContext db, CancellationToken ct)
    {
        var entries = await db.Audit.AsNoTracking().Where(a => a.Dataset == dataset).OrderBy(a => a.Id).ToListAsync(ct);
        return TypedResults.Ok(entries.Select(a => new AuditDto(
            a.Id, a.BatchId, a.Action, a.Operator, a.Reason, a.Details, a.At)).ToList());
    }

    internal static BatchDecisionDto ToDto(BatchDecision b) => new(
        b.BatchId, b.Dataset, b.Status, b.SchemaVersion, b.RowCount, b.Sha256, b.Reasons, b.DecidedAt, b.UpdatedAt,
        b.Details is null ? null : JsonColumns.Element(b.Details, DataJson.Options), b.WindowBatchIds);
}

public sealed record DatasetConfigDto(string? LabelColumn, string? Task);

/// <summary>A batch's decision: <c>status</c> is accepted, quarantined, released, discarded or corrupt; <c>details</c> is the library's decision (p-values, examples).</summary>
public sealed record BatchDecisionDto(
    Guid BatchId, string Dataset, BatchStatus Status, int? SchemaVersion, long RowCount, string Sha256, IReadOnlyList<Anomaly> Reasons, DateTimeOffset DecidedAt,
    DateTimeOffset? UpdatedAt, JsonElement? Details, Guid[]? WindowBatchIds);

public sealed record AuditDto(long Id, Guid? BatchId, string Action, string Operator, string Reason, JsonElement? Details, DateTimeOffset At);

/// <summary>
/// An operator's request: why (required, for the audit log). Who is the caller's key; <c>operator</c> is still accepted
/// so older clients keep working, and is recorded only when authentication is off.
/// </summary>
public sealed record OperatorRequest(string? Operator, string? Reason)
{
    public ProblemHttpResult? Problem() => string.IsNullOrWhiteSpace(Reason)
        ? TypedResults.Problem(detail: "'reason' is required: every operator action is audited, under the caller's key", statusCode: 400, title: "Who and why")
        : null;
}
