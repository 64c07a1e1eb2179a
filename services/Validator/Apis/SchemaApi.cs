using System.Security.Claims;
using Ctm.ServiceDefaults.Storage;
using Ctm.ServiceDefaults.Auth;
using System.Text.Json;
using Ctm.Data.Schema;
using Ctm.Data.Statistics;
using Ctm.Validator.Extensions;
using Ctm.Validator.Quarantine;
using Ctm.Validator.Schemas;
using Ctm.Validator.Storage;
using Ctm.Validator.Validation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Ctm.Validator.Apis;

/// <summary>
/// Schemas (versioned), operators' changes to them, the changes the Validator proposes for quarantined batches
/// (approve or reject), and per-feature drift and skew thresholds.
/// </summary>
public static class SchemaApi
{
    public static IEndpointRouteBuilder MapSchemaApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1").RequireAuthorization(CtmPolicies.Read);
        api.MapGet("/datasets/{dataset}/schema", GetSchemaAsync);
        api.MapGet("/datasets/{dataset}/schema/versions", ListSchemasAsync);
        api.MapGet("/datasets/{dataset}/schema/versions/{version:int}", GetSchemaVersionAsync);
        api.MapPost("/datasets/{dataset}/schema/changes", ChangeSchemaAsync).RequireAuthorization(CtmPolicies.Operate);
        api.MapGet("/datasets/{dataset}/proposals", ListProposalsAsync);
        api.MapGet("/proposals/{id:guid}", GetProposalAsync);
        api.MapPost("/proposals/{id:guid}/approve", ApproveAsync).RequireAuthorization(CtmPolicies.Operate);
        api.MapPost("/proposals/{id:guid}/reject", RejectAsync).RequireAuthorization(CtmPolicies.Operate);
        api.MapGet("/datasets/{dataset}/thresholds", GetThresholdsAsync);
        api.MapPut("/datasets/{dataset}/thresholds/{feature}", PutThresholdsAsync).RequireAuthorization(CtmPolicies.Operate);
        return app;
    }

    public static async Task<Results<Ok<SchemaDto>, NotFound>> GetSchemaAsync(string dataset, DatasetStore store, CancellationToken ct) =>
        await store.CurrentSchemaAsync(dataset, ct) is { } current ? TypedResults.Ok(ToDto(current)) : TypedResults.NotFound();

    public static async Task<Ok<List<SchemaDto>>> ListSchemasAsync(string dataset, ValidatorDbContext db, CancellationToken ct)
    {
        var rows = await db.Schemas.AsNoTracking().Where(s => s.Dataset == dataset).OrderBy(s => s.Version).ToListAsync(ct);
        return TypedResults.Ok(rows.Select(r => ToDto(CurrentSchema.From(r))).ToList());
    }

    public static async Task<Results<Ok<SchemaDto>, NotFound>> GetSchemaVersionAsync(string dataset, int version, ValidatorDbContext db, CancellationToken ct) =>
        await db.Schemas.AsNoTracking().SingleOrDefaultAsync(s => s.Dataset == dataset && s.Version == version, ct) is { } row
            ? TypedResults.Ok(ToDto(CurrentSchema.From(row)))
            : TypedResults.NotFound();

    /// <summary>
    /// Body: <c>{"operator": "...", "reason": "...", "changes": [{"op": "addDomainValues", "feature": "plan", "values": ["enterprise"]},
    /// {"op": "relaxDomainMass", "feature": "plan", "maxOutOfDomainFraction": 0.05}, {"op": "widenRange", "feature": "fee", "min": 0, "max": 500},
    /// {"op": "markOptional", "feature": "x", "minPresence": 0}, {"op": "addColumn", "feature": "y", "type": "Numeric"}]}</c>.
    /// </summary>
    public static async Task<Results<Ok<SchemaChangeResult>, ProblemHttpResult>> ChangeSchemaAsync(string dataset, SchemaChangeRequest body, ClaimsPrincipal user, SchemaService schemas, CancellationToken ct)
    {
        if (new OperatorRequest(body.Operator, body.Reason).Problem() is { } problem)
        {
            return problem;
        }

        return ToResult(await schemas.ChangeAsync(dataset, body.Changes ?? [], user.Actor(body.Operator), body.Reason!, ct));
    }

    public static async Task<Ok<List<ProposalDto>>> ListProposalsAsync(string dataset, string? status, ValidatorDbContext db, CancellationToken ct)
    {
        // A status no proposal can have lists nothing, as it did when the column was compared as text.
        if (!EnumText<ProposalStatus>.TryParseFilter(status, out var wanted))
        {
            return TypedResults.Ok(new List<ProposalDto>());
        }

        var rows = await db.Proposals.AsNoTracking().Where(p => p.Dataset == dataset && (wanted == null || p.Status == wanted)).OrderBy(p => p.CreatedAt).ToListAsync(ct);
        return TypedResults.Ok(rows.Select(ToDto).ToList());
    }

    public static async Task<Results<Ok<ProposalDto>, NotFound>> GetProposalAsync(Guid id, ValidatorDbContext db, CancellationToken ct) =>
        await db.Proposals.AsNoTracking().SingleOrDefaultAsync(p => p.Id == id, ct) is { } row ? TypedResults.Ok(ToDto(row)) : TypedResults.NotFound();

    public static async Task<Results<Ok<SchemaChangeResult>, ProblemHttpResult>> ApproveAsync(Guid id, OperatorRequest body, ClaimsPrincipal user, SchemaService schemas, CancellationToken ct) =>
        body.Problem() ?? (Results<Ok<SchemaChangeResult>, ProblemHttpResult>)ToResult(await schemas.ApproveAsync(id, user.Actor(body.Operator), body.Reason!, ct));

    public static async Task<Results<Ok<SchemaChangeResult>, ProblemHttpResult>> RejectAsync(Guid id, OperatorRequest body, ClaimsPrincipal user, SchemaService schemas, CancellationToken ct) =>
        body.Problem() ?? (Results<Ok<SchemaChangeResult>, ProblemHttpResult>)ToResult(await schemas.RejectAsync(id, user.Actor(body.Operator), body.Reason!, ct));

    /// <summary>The service's defaults and the dataset's overrides (feature <c>*</c> is the dataset-wide default).</summary>
    public static async Task<Ok<ThresholdsDto>> GetThresholdsAsync(string dataset, ValidatorDbContext db, IOptions<ValidatorOptions> settings, CancellationToken ct)
    {
        var rows = await db.Thresholds.AsNoTracking().Where(t => t.Dataset == dataset).OrderBy(t => t.Feature).ThenBy(t => t.Kind).ToListAsync(ct);
        return TypedResults.Ok(new ThresholdsDto(
            settings.Value.DefaultDrift,
            settings.Value.DefaultSkew,
            [.. rows.Select(r => new FeatureThresholdDto(r.Feature, r.Kind, DatasetStore.ToThresholds(r, r.Kind == ThresholdKinds.Drift ? settings.Value.DefaultDrift : settings.Value.DefaultSkew), r.UpdatedBy, r.UpdatedAt))]));
    }

    /// <summary>
    /// Body: <c>{"operator": "...", "reason": "...", "drift": {"significance": 1e-6, "jensenShannonFloor": 0.05, "lInfinityFloor": 0.1, "enabled": true,
    /// "warnDeviations": 4, "blockDeviations": 12, "minHistory": 10, "historyBatches": 30, "persistBatches": 4, "settleBatches": 3,
    /// "unseenBlockFloor": 0.1, "youngUnseenBlockFloor": 0.5, "outOfRangeBlockFloor": 0.25, "seedLocation": 5, "seedScale": 5}, "skew": {...}}</c>;
    /// every field is optional (the service's default), feature <c>*</c> is the dataset's default.
    /// </summary>
    public static async Task<Results<Ok<ThresholdsDto>, ProblemHttpResult>> PutThresholdsAsync(
        string dataset, string feature, ThresholdsRequest body, ClaimsPrincipal user, SchemaService schemas, ValidatorDbContext db, IOptions<ValidatorOptions> settings, CancellationToken ct)
    {
        if (new OperatorRequest(body.Operator, body.Reason).Problem() is { } problem)
        {
            return problem;
        }

        foreach (var t in new[] { body.Drift, body.Skew })
        {
            if (t is not null && Invalid(t) is { } detail)
            {
                return TypedResults.Problem(detail: detail, statusCode: 400, title: "Invalid thresholds");
            }
        }

        if (body.Drift is null && body.Skew is null)
        {
            return TypedResults.Problem(detail: "give 'drift', 'skew' or both", statusCode: 400, title: "Invalid thresholds");
        }

        // Fields a request leaves out keep the service's defaults, so requests written before the calibrated settings still mean what they meant.
        var drift = body.Drift is null ? null : Merge(body.Drift, settings.Value.DefaultDrift);
        var skew = body.Skew is null ? null : Merge(body.Skew, settings.Value.DefaultSkew);
        await schemas.SetThresholdsAsync(dataset, feature, drift, skew, user.Actor(body.Operator), body.Reason!, ct);
        return TypedResults.Ok((await GetThresholdsAsync(dataset, db, settings, ct)).Value!);
    }

    private static string? Invalid(ThresholdsBody t) =>
        t.Significance is <= 0 or >= 1 ? "significance must be in (0, 1)"
        : t.JensenShannonFloor is < 0 or > 1 || t.LInfinityFloor is < 0 or > 1 ? "jensenShannonFloor and lInfinityFloor must be in [0, 1]"
        : t.WarnDeviations is <= 0 || t.BlockDeviations is <= 0 ? "warnDeviations and blockDeviations must be positive"
        : t.WarnDeviations is { } w && t.BlockDeviations is { } b && w > b ? "warnDeviations must not exceed blockDeviations"
        : t.MinHistory is < 1 || t.HistoryBatches is < 1 || t.SettleBatches is < 1 ? "minHistory, historyBatches and settleBatches must be at least 1"
        : t.PersistBatches is < 0 ? "persistBatches must be 0 (off) or more"
        : t.UnseenBlockFloor is < 0 or > 1 || t.YoungUnseenBlockFloor is < 0 or > 1 || t.OutOfRangeBlockFloor is < 0 or > 1 ? "unseenBlockFloor, youngUnseenBlockFloor and outOfRangeBlockFloor must be in [0, 1]"
        : t.SeedLocation is < 0 || t.SeedScale is < 1 ? "seedLocation must be 0 or more and seedScale at least 1"
        : null;

    private static DriftThresholds Merge(ThresholdsBody t, DriftThresholds d) => d with
    {
        Significance = t.Significance ?? d.Significance,
        JensenShannonFloor = t.JensenShannonFloor ?? d.JensenShannonFloor,
        LInfinityFloor = t.LInfinityFloor ?? d.LInfinityFloor,
        Enabled = t.Enabled ?? d.Enabled,
        WarnDeviations = t.WarnDeviations ?? d.WarnDeviations,
        BlockDeviations = t.BlockDeviations ?? d.BlockDeviations,
        MinHistory = t.MinHistory ?? d.MinHistory,
        HistoryBatches = t.HistoryBatches ?? d.HistoryBatches,
        PersistBatches = t.PersistBatches ?? d.PersistBatches,
        SettleBatches = t.SettleBatches ?? d.SettleBatches,
        UnseenBlockFloor = t.UnseenBlockFloor ?? d.UnseenBlockFloor,
        YoungUnseenBlockFloor = t.YoungUnseenBlockFloor ?? d.YoungUnseenBlockFloor,
        OutOfRangeBlockFloor = t.OutOfRangeBlockFloor ?? d.OutOfRangeBlockFloor,
        SeedLocation = t.SeedLocation ?? d.SeedLocation,
        SeedScale = t.SeedScale ?? d.SeedScale,
    };

    private static Results<Ok<SchemaChangeResult>, ProblemHttpResult> ToResult(SchemaChangeResult result) => result.Outcome switch
    {
        OperatorOutcome.NotFound => TypedResults.Problem(detail: result.Message, statusCode: 404, title: "Not found"),
        OperatorOutcome.Conflict => TypedResults.Problem(detail: result.Message, statusCode: 409, title: "The change cannot apply"),
        _ => TypedResults.Ok(result),
    };

    private static SchemaDto ToDto(CurrentSchema s) =>
        new(s.Version, s.Contract, s.Reason, s.CreatedAt, s.CreatedBy, JsonDocument.Parse(s.Data.ToJson()).RootElement);

    private static ProposalDto ToDto(SchemaProposal p)
    {
        return new(p.Id, p.Dataset, p.BatchId, p.BaseVersion, p.Status, JsonColumns.Element(p.Changes, DataJson.Options), [.. p.Changes.Select(c => c.Describe())],
            p.CreatedAt, p.DecidedBy, p.DecisionReason, p.DecidedAt, p.ResultingVersion);
    }
}

/// <summary>A schema version: <c>schema</c> is the contract view (columns, label, task), <c>definition</c> the full schema (presence, domains, ranges, thresholds).</summary>
public sealed record SchemaDto(int Version, DatasetSchema Schema, string Reason, DateTimeOffset CreatedAt, string? CreatedBy, JsonElement Definition);

public sealed record SchemaChangeRequest(string? Operator, string? Reason, List<SchemaChange>? Changes);

public sealed record ProposalDto(
    Guid Id, string Dataset, Guid BatchId, int BaseVersion, ProposalStatus Status, JsonElement Changes, IReadOnlyList<string> Descriptions,
    DateTimeOffset CreatedAt, string? DecidedBy, string? DecisionReason, DateTimeOffset? DecidedAt, int? ResultingVersion);

public sealed record ThresholdsRequest(string? Operator, string? Reason, ThresholdsBody? Drift, ThresholdsBody? Skew);

/// <summary>Thresholds as an operator sends them: every field optional, a missing one keeps the service's default (see <see cref="DriftThresholds"/> for each).</summary>
public sealed record ThresholdsBody(
    double? Significance, double? JensenShannonFloor, double? LInfinityFloor, bool? Enabled,
    double? WarnDeviations, double? BlockDeviations, int? MinHistory, int? HistoryBatches, int? PersistBatches, int? SettleBatches,
    double? UnseenBlockFloor, double? YoungUnseenBlockFloor, double? OutOfRangeBlockFloor, double? SeedLocation, double? SeedScale);

public sealed record ThresholdsDto(DriftThresholds DefaultDrift, DriftThresholds DefaultSkew, IReadOnlyList<FeatureThresholdDto> Overrides);

public sealed record FeatureThresholdDto(string Feature, string Kind, DriftThresholds Thresholds, string UpdatedBy, DateTimeOffset UpdatedAt);
