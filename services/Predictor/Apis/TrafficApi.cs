using Ctm.ServiceDefaults.Auth;
using Ctm.Predictor.Extensions;
using Ctm.Predictor.Models;
using Ctm.Predictor.Monitoring;

namespace Ctm.Predictor.Apis;

/// <summary>
/// Canary and shadow per dataset on this replica: <c>PUT /v1/models/{name}/traffic</c> loads the versions from the
/// Registry and installs them; <c>GET</c> shows them with the shadow comparison; <c>DELETE</c> ends them.
/// </summary>
public static class TrafficApi
{
    public static IEndpointRouteBuilder MapTrafficApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/models/{name}/traffic", Get).RequireAuthorization(CtmPolicies.Read);
        app.MapPut("/v1/models/{name}/traffic", PutAsync).RequireAuthorization(CtmPolicies.Operate);
        app.MapDelete("/v1/models/{name}/traffic", (string name, ModelCatalog catalog) =>
        {
            catalog.SetCanary(name, null, 0);
            catalog.SetShadow(name, null);
            return Results.NoContent();
        }).RequireAuthorization(CtmPolicies.Operate);
        app.MapGet("/v1/models/{name}/shadow", Get).RequireAuthorization(CtmPolicies.Read);
        return app;
    }

    public static IResult Get(string name, ModelCatalog catalog, ShadowRecorder shadow)
    {
        var slot = catalog.Find(name);
        return Results.Json(new
        {
            name,
            primaryVersion = slot?.Primary?.Version,
            canaryVersion = slot?.Canary?.Version,
            canaryShare = slot?.CanaryShare ?? 0,
            shadowVersion = slot?.Shadow?.Version,
            shadowComparisons = shadow.For(name).Select(c => new
            {
                c.LiveVersion,
                c.ShadowVersion,
                c.Rows,
                c.LabelAgreement,
                c.MeanAbsoluteDifference,
                c.MaxAbsoluteDifference,
                c.LastAt,
            }),
            shadowDropped = shadow.Dropped,
            shadowDroppedRows = shadow.DroppedRows,
            shadowIncompatible = shadow.Incompatible,
        });
    }

    public static async Task<IResult> PutAsync(string name, TrafficSettings traffic, ModelLoader loader, ModelCatalog catalog, ShadowRecorder shadow, CancellationToken ct)
    {
        if (traffic.CanaryShare is < 0 or > 1 || (traffic.CanaryVersion is null && traffic.CanaryShare > 0))
        {
            return Results.Json(new { error = "canaryShare must be between 0 and 1, and needs a canaryVersion" }, statusCode: StatusCodes.Status400BadRequest);
        }

        try
        {
            await loader.ConfigureTrafficAsync(name, traffic, ct);
        }
        catch (ModelLoadException e)
        {
            var status = e.Kind == "unknown-version" ? StatusCodes.Status404NotFound : StatusCodes.Status422UnprocessableEntity;
            return Results.Json(new { error = e.Message, kind = e.Kind }, statusCode: status);
        }

        return Get(name, catalog, shadow);
    }
}
