using System.Security.Claims;
using Ctm.ServiceDefaults.Auth;
using Ctm.Validator.Quarantine;
using Ctm.Validator.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Ctm.Validator.Apis;

/// <summary>Operators release or discard quarantined batches (the bus commands <c>ReleaseBatch</c> and <c>DiscardBatch</c> do the same).</summary>
public static class QuarantineApi
{
    public static IEndpointRouteBuilder MapQuarantineApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/batches/{id:guid}").RequireAuthorization(CtmPolicies.Operate);
        api.MapPost("/release", ReleaseAsync);
        api.MapPost("/discard", DiscardAsync);
        return app;
    }

    /// <summary>Body: <c>{"reason": "...", "applyProposals": true}</c> (the audit records the caller's key, not an <c>operator</c> field); <c>applyProposals</c> approves the batch's pending schema proposals with the release.</summary>
    public static async Task<Results<Ok<BatchDecisionDto>, ProblemHttpResult>> ReleaseAsync(
        Guid id, ReleaseRequest body, ClaimsPrincipal user, QuarantineService quarantine, ValidatorDbContext db, CancellationToken ct)
    {
        if (new OperatorRequest(body.Operator, body.Reason).Problem() is { } problem)
        {
            return problem;
        }

        var (outcome, message) = await quarantine.ReleaseAsync(id, user.Actor(body.Operator), body.Reason!, Guid.NewGuid(), ct, body.ApplyProposals == true);
        return await ResultAsync(id, outcome, message, db, ct);
    }

    public static async Task<Results<Ok<BatchDecisionDto>, ProblemHttpResult>> DiscardAsync(
        Guid id, OperatorRequest body, ClaimsPrincipal user, QuarantineService quarantine, ValidatorDbContext db, CancellationToken ct)
    {
        if (body.Problem() is { } problem)
        {
            return problem;
        }

        var (outcome, message) = await quarantine.DiscardAsync(id, user.Actor(body.Operator), body.Reason!, Guid.NewGuid(), ct);
        return await ResultAsync(id, outcome, message, db, ct);
    }

    private static async Task<Results<Ok<BatchDecisionDto>, ProblemHttpResult>> ResultAsync(
        Guid id, OperatorOutcome outcome, string message, ValidatorDbContext db, CancellationToken ct) => outcome switch
        {
            OperatorOutcome.NotFound => TypedResults.Problem(detail: message, statusCode: 404, title: "Unknown batch"),
            OperatorOutcome.Conflict => TypedResults.Problem(detail: message, statusCode: 409, title: "Not allowed in the batch's state"),
            _ => TypedResults.Ok(DatasetsApi.ToDto(await db.Batches.AsNoTracking().SingleAsync(b => b.BatchId == id, ct))),
        };
}

/// <summary>An operator's release: who and why, and whether the batch's pending schema proposals are applied with it.</summary>
public sealed record ReleaseRequest(string? Operator, string? Reason, bool? ApplyProposals);
