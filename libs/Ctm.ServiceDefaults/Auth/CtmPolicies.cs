using Microsoft.AspNetCore.Authorization;

namespace Ctm.ServiceDefaults.Auth;

/// <summary>
/// The authorization policies of every Ctm HTTP API, by what a route does rather than by who calls it. Each maps to
/// the roles allowed (<see cref="Roles"/>); a route names exactly one with <c>RequireAuthorization</c>.
/// </summary>
public static class CtmPolicies
{
    /// <summary>Uploads a batch: producers.</summary>
    public const string Ingest = "ctm:ingest";

    /// <summary>Changes state or spends compute on an operator's behalf: operators.</summary>
    public const string Operate = "ctm:operate";

    /// <summary>Queries and predictions: readers, operators and services.</summary>
    public const string Read = "ctm:read";

    /// <summary>Ingest's receipts and batch contents: what <see cref="Read"/> allows, plus the producer that sent them.</summary>
    public const string Receipts = "ctm:receipts";

    /// <summary>Reports that services send each other over HTTP (serving statistics): services and operators.</summary>
    public const string Report = "ctm:report";

    /// <summary>Each policy and the roles it allows.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> Roles { get; } = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal)
    {
        [Ingest] = [CtmRoles.Producer],
        [Operate] = [CtmRoles.Operator],
        [Read] = [CtmRoles.Reader, CtmRoles.Operator, CtmRoles.Service],
        [Receipts] = [CtmRoles.Producer, CtmRoles.Reader, CtmRoles.Operator, CtmRoles.Service],
        [Report] = [CtmRoles.Service, CtmRoles.Operator],
    };

    internal static void Add(AuthorizationOptions options)
    {
        // The policies name no scheme: the authentication middleware has already run the default one (the forwarding
        // scheme, so API key or session cookie alike), and a policy that named it made every request authenticate a
        // second time and rebuild its principal (about 1 µs of a 25 µs request). Challenges and refusals still go to
        // the default scheme.
        foreach (var (name, roles) in Roles)
        {
            options.AddPolicy(name, p => p.RequireAuthenticatedUser().RequireRole(roles));
        }

        // A route that names no policy still needs an authenticated reader: only what is marked anonymous is open.
        options.FallbackPolicy = options.GetPolicy(Read);
    }
}
