using Ctm.ServiceDefaults.Auth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Ctm.ServiceDefaults.Messaging;

/// <summary>The operator's view of error queues and the re-drive command, on every service that has a bus.</summary>
public static class ErrorQueuesApi
{
    /// <summary>
    /// Maps <c>GET /v1/operations/error-queues</c> (depths, sample reasons, messages waiting for redelivery) and
    /// <c>POST /v1/operations/error-queues/{queue}/redrive?max=</c>. Does nothing in a service without messaging.
    /// </summary>
    public static IEndpointRouteBuilder MapErrorQueuesApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (app.ServiceProvider.GetService<ErrorQueues>() is null)
        {
            return app;
        }

        var api = app.MapGroup("/v1/operations/error-queues");
        api.MapGet("/", async (ErrorQueues queues, int? samples, CancellationToken ct) =>
            TypedResults.Ok(await queues.ListAsync(Math.Clamp(samples ?? 3, 0, 50), ct))).RequireAuthorization(CtmPolicies.Read);
        api.MapPost("/{queue}/redrive", RedriveAsync).RequireAuthorization(CtmPolicies.Operate);
        return app;
    }

    private static async Task<Results<Ok<RedriveResult>, ProblemHttpResult>> RedriveAsync(
        string queue, int? max, ErrorQueues queues, CancellationToken ct)
    {
        if (ErrorQueues.Problem(queue) is { } problem)
        {
            return TypedResults.Problem(detail: problem, statusCode: StatusCodes.Status400BadRequest, title: "Not an error queue");
        }

        RedriveResult? result;
        try
        {
            result = await queues.RedriveAsync(queue, Math.Clamp(max ?? 10_000, 1, 1_000_000), ct);
        }
        catch (BrokerAccessRefusedException e)
        {
            return TypedResults.Problem(detail: e.Message, statusCode: StatusCodes.Status403Forbidden, title: "Not this service's queue");
        }

        return result is null
            ? TypedResults.Problem(detail: $"'{queue}' or its work queue does not exist on this virtual host", statusCode: StatusCodes.Status404NotFound, title: "No such queue")
            : TypedResults.Ok(result);
    }
}
