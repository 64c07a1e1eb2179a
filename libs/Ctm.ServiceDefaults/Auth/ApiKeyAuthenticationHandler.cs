using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ctm.ServiceDefaults.Auth;

/// <summary>
/// The API-key scheme: <c>Authorization: ApiKey &lt;key&gt;</c> (the main form) or <c>X-Api-Key: &lt;key&gt;</c>. A request
/// without either is anonymous (the route's policy then answers 401); a key that matches no configured hash fails.
/// The key is never logged; only the id of a key that matched is.
/// </summary>
public sealed partial class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeyStore store, IOptions<AuthOptions> auth)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    /// <summary>The scheme's name.</summary>
    public const string SchemeName = "ApiKey";

    /// <summary>The alternative header.</summary>
    public const string HeaderName = "X-Api-Key";

    /// <summary>The claim type that says how the caller proved who it is (<c>api-key</c>, <c>anonymous</c>).</summary>
    public const string MethodClaim = "ctm:auth";

    /// <summary>The name of every caller when <see cref="AuthOptions.Enabled"/> is false.</summary>
    public const string Anonymous = "anonymous";

    /// <summary>The key a request carries, from either header, or null.</summary>
    public static string? ReadKey(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith(SchemeName + " ", StringComparison.OrdinalIgnoreCase))
        {
            return authorization[(SchemeName.Length + 1)..].Trim() is { Length: > 0 } key ? key : null;
        }

        return request.Headers[HeaderName].ToString().Trim() is { Length: > 0 } header ? header : null;
    }

    /// <summary>Whether a request carries credentials for this scheme.</summary>
    public static bool HasKey(HttpRequest request) => ReadKey(request) is not null;

    /// <summary>The principal of <paramref name="identity"/>: its id as the name, its roles as role claims.</summary>
    public static ClaimsPrincipal Principal(ApiKeyIdentity identity, string authenticationType)
    {
        ArgumentNullException.ThrowIfNull(identity);
        var claims = new List<Claim> { new(ClaimTypes.Name, identity.Id), new(MethodClaim, "api-key") };
        claims.AddRange(identity.Roles.Select(r => new Claim(ClaimTypes.Role, r)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, authenticationType));
    }

    /// <summary>The principal of every caller when <see cref="AuthOptions.Enabled"/> is false: <see cref="Anonymous"/> with every role.</summary>
    public static ClaimsPrincipal AnonymousPrincipal()
    {
        var claims = new List<Claim> { new(ClaimTypes.Name, Anonymous), new(MethodClaim, Anonymous) };
        claims.AddRange(CtmRoles.All.Select(r => new Claim(ClaimTypes.Role, r)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
    }

    /// <inheritdoc />
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!auth.Value.Enabled)
        {
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(AnonymousPrincipal(), SchemeName)));
        }

        if (ReadKey(Request) is not { } key)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (store.Find(key) is not { } identity)
        {
            LogUnknownKey(Logger, Request.Method, Request.Path, Context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
            return Task.FromResult(AuthenticateResult.Fail("The API key is not one of the configured keys."));
        }

        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(Principal(identity, SchemeName), SchemeName)));
    }

    /// <inheritdoc />
    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = $"{SchemeName} realm=\"ctm\"";
        var presented = HasKey(Request);
        return Problem(Context, StatusCodes.Status401Unauthorized, presented ? "Unknown API key" : "API key required",
            presented
                ? "The API key sent is not one of the keys configured for this service. Use a key made by scripts/keys.sh (./ctm demo prints where they are)."
                : $"Send an API key: 'Authorization: ApiKey <key>' (or '{HeaderName}: <key>'). ./ctm demo prints where the demo's keys are; the CLI reads CTM_API_KEY.");
    }

    /// <inheritdoc />
    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) => Forbid(Context);

    /// <summary>A 403 naming the caller, its roles and the roles the route needs.</summary>
    public static Task Forbid(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        var user = context.User;
        var roles = user.FindAll(ClaimTypes.Role).Select(c => c.Value).ToList();
        // Every policy on the route must pass (a group's and the route's own): the roles that satisfy them all.
        var needed = (context.GetEndpoint()?.Metadata.GetOrderedMetadata<IAuthorizeData>() ?? [])
            .Select(a => a.Policy).OfType<string>()
            .Select(p => CtmPolicies.Roles.TryGetValue(p, out var r) ? r : [])
            .Aggregate((IEnumerable<string>?)null, (all, roles) => all is null ? roles : all.Intersect(roles))?.ToList() ?? [];
        return Problem(context, StatusCodes.Status403Forbidden, "Role not allowed",
            $"The key '{user.Identity?.Name}' has the role(s) {(roles.Count == 0 ? "none" : string.Join(", ", roles))}; {context.Request.Method} {context.Request.Path} needs "
            + (needed.Count == 0 ? "another role" : $"one of: {string.Join(", ", needed)}") + ". Use a key with that role.");
    }

    private static Task Problem(HttpContext context, int status, string title, string detail) =>
        context.Response.WriteAsJsonAsync(new { type = $"https://httpstatuses.io/{status}", title, status, detail }, (System.Text.Json.JsonSerializerOptions?)null, "application/problem+json", context.RequestAborted);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused an unknown API key on {Method} {Path} from {RemoteAddress}")]
    private static partial void LogUnknownKey(ILogger logger, string method, string path, string remoteAddress);
}
