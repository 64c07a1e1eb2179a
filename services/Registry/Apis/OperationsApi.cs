using System.Security.Claims;
using Ctm.ServiceDefaults.Auth;
using System.Text.Json;
using Ctm.Registry.External;
using Ctm.Registry.Policies;
using Ctm.Registry.Rollbacks;
using Ctm.Registry.Serving;
using Ctm.Registry.Storage;
using Ctm.ServiceDefaults.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Ctm.Registry.Apis;

/// <summary>Operators' actions: rollbacks, the promotion policy, approvals, uploads of models trained elsewhere. Each is audited.</summary>
public static class OperationsApi
{
    public static IEndpointRouteBuilder MapOperationsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/datasets/{dataset}").RequireAuthorization(CtmPolicies.Read);
        api.MapPost("/rollbacks", RollbackAsync).RequireAuthorization(CtmPolicies.Operate);
        api.MapGet("/rollbacks", ListRollbacksAsync);
        api.MapGet("/policy", GetPolicyAsync);
        api.MapPut("/policy", PutPolicyAsync).RequireAuthorization(CtmPolicies.Operate);
        api.MapPost("/versions/{version:int}/approve", ApproveAsync).RequireAuthorization(CtmPolicies.Operate);
        api.MapPost("/versions/{version:int}/reject", RejectAsync).RequireAuthorization(CtmPolicies.Operate);
        api.MapPost("/versions", UploadAsync).DisableAntiforgery().RequireAuthorization(CtmPolicies.Operate);
        return app;
    }

    /// <summary>A rollback; its answer waits (bounded by <c>waitSeconds</c>, default <c>ServingRecord:ConfirmWaitSeconds</c>) for the live replicas to load or refuse it, and says which did.</summary>
    public static async Task<Results<Ok<RollbackOutcome>, ProblemHttpResult>> RollbackAsync(string dataset, RollbackRequestBody body, ClaimsPrincipal user, RollbackService rollbacks, ServingRecord record, CancellationToken ct)
    {
        var requestId = body.RequestId ?? Guid.NewGuid();
        var outcome = await rollbacks.RollbackAsync(
            new RollbackCommand(requestId, dataset, body.TargetVersion,
                BatchSelector.Of(body.CorruptBatchId, body.CorruptBatchIds, body.IngestedFrom, body.IngestedTo, body.Upstream), body.Reason ?? string.Empty, user.Actor(body.Operator), body.Force, body.Retrain, body.CorrelationId ?? requestId),
            ct);
        if (outcome.Status == ActionStatus.Done && outcome.Generation is { } generation && outcome.ServingVersion is not null)
        {
            var answers = await record.WaitAsync(dataset, generation, record.WaitFor(body.WaitSeconds), ct);
            outcome = outcome with { Confirmations = answers, Confirmation = ServingRecord.Summarize(outcome.ServingVersion.Value, answers) };
        }

        return outcome.Status == ActionStatus.Done
            ? TypedResults.Ok(outcome)
            : Problem(outcome.Status, outcome.Message, new Dictionary<string, object?> { ["requestId"] = requestId, ["servingVersion"] = outcome.ServingVersion });
    }

    /// <summary>Applied rollback requests with what they did and how often each arrived (a repeated request has no second effect).</summary>
    public static async Task<Ok<List<RollbackRequestDto>>> ListRollbacksAsync(string dataset, RegistryDbContext db, CancellationToken ct)
    {
        var rows = await db.RollbackRequests.AsNoTracking().Where(r => r.Dataset == dataset).OrderBy(r => r.At).ToListAsync(ct);
        return TypedResults.Ok(rows.Select(r => new RollbackRequestDto(r.RequestId, r.At, r.Deliveries, r.Outcome)).ToList());
    }

    public static async Task<Ok<PolicyDto>> GetPolicyAsync(string dataset, RegistryDbContext db, CancellationToken ct)
    {
        var row = await db.Datasets.FindAsync([dataset], ct);
        var p = row is null ? PolicySettings.Default : new PolicySettings(row.PolicyMode, row.Tolerance, row.Metric);
        return TypedResults.Ok(new PolicyDto(dataset, p.Mode, p.Tolerance, p.Metric, row?.PolicyUpdatedBy, row?.PolicyUpdatedAt));
    }

    public static async Task<Results<Ok<PolicyDto>, ProblemHttpResult>> PutPolicyAsync(string dataset, PolicyBody body, ClaimsPrincipal user, PromotionService promotions, RegistryDbContext db, CancellationToken ct)
    {
        var result = await promotions.SetPolicyAsync(dataset, body.Mode ?? PolicySettings.Auto, body.Tolerance ?? PolicySettings.Default.Tolerance, body.Metric, user.Actor(body.Operator), ct);
        return result.Ok ? await GetPolicyAsync(dataset, db, ct) : Problem(result.Status, result.Message);
    }

    /// <summary>An operator's approval; like a rollback, its answer waits (bounded) for the live replicas and says which loaded the version.</summary>
    public static async Task<Results<Ok<OperatorActionResult>, ProblemHttpResult>> ApproveAsync(string dataset, int version, OperatorBody body, ClaimsPrincipal user, PromotionService promotions, ServingRecord record, CancellationToken ct)
    {
        var result = await promotions.ApproveAsync(dataset, version, user.Actor(body.Operator), body.Reason, ct);
        if (result.Ok && result.Generation is { } generation)
        {
            var answers = await record.WaitAsync(dataset, generation, record.WaitFor(body.WaitSeconds), ct);
            result = result with { Confirmations = answers, Confirmation = ServingRecord.Summarize(version, answers) };
        }

        return result.Ok ? TypedResults.Ok(result) : Problem(result.Status, result.Message);
    }

    public static async Task<Results<Ok<OperatorActionResult>, ProblemHttpResult>> RejectAsync(string dataset, int version, OperatorBody body, ClaimsPrincipal user, PromotionService promotions, CancellationToken ct)
    {
        var result = await promotions.RejectAsync(dataset, version, user.Actor(body.Operator), body.Reason, ct);
        return result.Ok ? TypedResults.Ok(result) : Problem(result.Status, result.Message);
    }

    /// <summary>
    /// Upload an ONNX model trained elsewhere: <c>multipart/form-data</c> with a <c>file</c> part and fields
    /// <c>operator</c>, <c>inputMapping</c>, <c>source</c>, <c>description</c>; or the raw bytes as the body with those as query parameters.
    /// The mapping is a JSON object (model input → feature) or <c>input=feature;input2=feature2</c>.
    /// </summary>
    public static async Task<Results<Created<UploadResult>, Ok<UploadResult>, ProblemHttpResult>> UploadAsync(string dataset, HttpRequest request, ClaimsPrincipal user, ExternalModelService models, CancellationToken ct)
    {
        byte[] bytes;
        string? op, mapping, source, description, fileName;
        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(ct);
            var file = form.Files.GetFile("file") ?? (form.Files.Count > 0 ? form.Files[0] : null);
            if (file is null)
            {
                return Problem(ActionStatus.Invalid, "the multipart body has no file part (name it 'file')");
            }

            using var buffer = new MemoryStream();
            await file.CopyToAsync(buffer, ct);
            bytes = buffer.ToArray();
            fileName = file.FileName;
            string? Field(string name) => form.TryGetValue(name, out var v) ? v.ToString() : request.Query[name].FirstOrDefault();
            (op, mapping, source, description) = (Field("operator"), Field("inputMapping") ?? Field("mapping"), Field("source"), Field("description"));
        }
        else
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, ct);
            bytes = buffer.ToArray();
            var q = request.Query;
            (op, mapping, source, description, fileName) = (q["operator"].FirstOrDefault(), q["inputMapping"].FirstOrDefault() ?? q["mapping"].FirstOrDefault(),
                q["source"].FirstOrDefault(), q["description"].FirstOrDefault(), q["fileName"].FirstOrDefault());
        }

        if (!TryParseMapping(mapping, out var parsed, out var error))
        {
            return Problem(ActionStatus.Invalid, error);
        }

        var result = await models.UploadAsync(new ExternalUpload(dataset, bytes, parsed, user.Actor(op), source, description, fileName), ct);
        if (!result.Ok)
        {
            return Problem(result.Status, result.Message);
        }

        return result.Created
            ? TypedResults.Created($"/v1/datasets/{Uri.EscapeDataString(dataset)}/versions/{result.Version}", result)
            : TypedResults.Ok(result);
    }

    internal static bool TryParseMapping(string? text, out IReadOnlyDictionary<string, string> mapping, out string error)
    {
        mapping = new Dictionary<string, string>();
        error = string.Empty;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        if (text.TrimStart().StartsWith('{'))
        {
            try
            {
                mapping = JsonSerializer.Deserialize<Dictionary<string, string>>(text, JsonSerializerOptions.Web) ?? [];
                return true;
            }
            catch (JsonException e)
            {
                error = $"inputMapping is not a JSON object of strings (model input → feature): {e.Message}";
                return false;
            }
        }

        var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || eq == pair.Length - 1)
            {
                error = $"inputMapping entry '{pair}' is not input=feature";
                return false;
            }

            pairs[pair[..eq].Trim()] = pair[(eq + 1)..].Trim();
        }

        mapping = pairs;
        return true;
    }

    private static ProblemHttpResult Problem(ActionStatus status, string detail, IDictionary<string, object?>? extensions = null) =>
        TypedResults.Problem(detail: detail, statusCode: status switch
        {
            ActionStatus.NotFound => StatusCodes.Status404NotFound,
            ActionStatus.Conflict => StatusCodes.Status409Conflict,
            ActionStatus.NoMatch => StatusCodes.Status422UnprocessableEntity,
            _ => StatusCodes.Status400BadRequest,
        }, title: EnumText<ActionStatus>.Name(status), extensions: extensions);
}

/// <summary>
/// A rollback: <c>targetVersion</c>, or the corrupt batches — named (<c>corruptBatchId</c>, <c>corruptBatchIds</c>) and/or
/// selected (<c>ingestedFrom</c>/<c>ingestedTo</c>: ingested in [from, to); <c>upstream</c>: from that source), all of them together.
/// </summary>
public sealed record RollbackRequestBody(
    Guid? RequestId, int? TargetVersion, Guid? CorruptBatchId, string? Reason, string? Operator, bool Force, bool Retrain, Guid? CorrelationId,
    IReadOnlyList<Guid>? CorruptBatchIds = null, DateTimeOffset? IngestedFrom = null, DateTimeOffset? IngestedTo = null, string? Upstream = null, int? WaitSeconds = null);

public sealed record RollbackRequestDto(Guid RequestId, DateTimeOffset At, int Deliveries, RollbackOutcome Outcome);

public sealed record PolicyBody(string? Mode, double? Tolerance, string? Metric, string? Operator);

public sealed record OperatorBody(string? Operator, string? Reason, int? WaitSeconds = null);

public sealed record PolicyDto(string Dataset, string Mode, double Tolerance, string? Metric, string? UpdatedBy, DateTimeOffset? UpdatedAt);
