using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Ctm.ServiceDefaults.Auth;

/// <summary>A route as <c>GET /v1/operations/routes</c> lists it.</summary>
/// <param name="Methods">Its HTTP methods (empty: any).</param>
/// <param name="Route">Its pattern, e.g. <c>/v1/datasets/{dataset}/rollbacks</c>.</param>
/// <param name="Policy">The policy that guards it; null when it names none (the fallback, <see cref="CtmPolicies.Read"/>, applies) or is anonymous.</param>
/// <param name="Anonymous">Open to callers without a key.</param>
/// <param name="SignIn">The route that exchanges a key for a session: anonymous by design.</param>
public sealed record RouteAuthorization(IReadOnlyList<string> Methods, string Route, string? Policy, bool Anonymous, bool SignIn)
{
    /// <summary>Changes state: any method but GET and HEAD (a POST that only reads, such as a prediction, counts too: it must name its policy).</summary>
    public bool Mutating => Methods.Count == 0 || Methods.Any(m => m is not ("GET" or "HEAD"));
}

/// <summary>The route table of a service with the authorization each route requires.</summary>
public static class RouteTable
{
    /// <summary>Every route endpoint in <paramref name="endpoints"/>, ordered by pattern.</summary>
    public static IReadOnlyList<RouteAuthorization> Describe(IEnumerable<Endpoint> endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return [.. endpoints.OfType<RouteEndpoint>().Select(e => new RouteAuthorization(
                e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods.ToList() ?? [],
                "/" + (e.RoutePattern.RawText ?? string.Empty).TrimStart('/'),
                e.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).LastOrDefault(p => p is not null),
                e.Metadata.GetMetadata<IAllowAnonymous>() is not null,
                e.Metadata.GetMetadata<AuthExtensions.SignInEndpoint>() is not null))
            .OrderBy(r => r.Route, StringComparer.Ordinal).ThenBy(r => string.Join(',', r.Methods), StringComparer.Ordinal)];
    }

    /// <summary>Routes that change state but name no known policy, or are anonymous without being a sign-in route.</summary>
    public static IReadOnlyList<string> Unguarded(IEnumerable<Endpoint> endpoints) =>
        [.. Describe(endpoints)
            .Where(r => r.Mutating && (r.Anonymous ? !r.SignIn : r.Policy is null || !CtmPolicies.Roles.ContainsKey(r.Policy)))
            .Select(r => $"{string.Join(',', r.Methods)} {r.Route}")];
}
