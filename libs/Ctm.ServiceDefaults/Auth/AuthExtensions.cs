using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ctm.ServiceDefaults.Auth;

/// <summary>Authentication (API keys, and a session cookie where a service adds one) and the role policies of every Ctm service.</summary>
public static partial class AuthExtensions
{
    /// <summary>The default scheme: it forwards to the API-key scheme, or to the session cookie when the request carries one and no key.</summary>
    public const string Scheme = "Ctm";

    /// <summary>The session-cookie scheme (the Registry's console registers it with <see cref="AddCtmSessionCookie"/>).</summary>
    public const string CookieScheme = "CtmSession";

    /// <summary>The session cookie's name.</summary>
    public const string CookieName = "ctm-session";

    /// <summary>The name under which a session keeps the key it was opened with, so the server can call other services as that caller.</summary>
    public const string KeyTokenName = "api_key";

    /// <summary>
    /// Registers the API-key scheme, the role policies (<see cref="CtmPolicies"/>, with <see cref="CtmPolicies.Read"/> as the
    /// fallback for routes that name none) and the key store, validated at start: a malformed hash, role or keys file stops
    /// the service with the setting's name.
    /// </summary>
    public static IHostApplicationBuilder AddCtmAuth(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section)
            .Validate(o => Check(() =>
            {
                ApiKeyStore.Load(o);
                ServiceKeyHandler.Read(o);
            }))
            .ValidateOnStart();
        builder.Services.AddSingleton(sp => ApiKeyStore.Load(sp.GetRequiredService<IOptions<AuthOptions>>().Value));
        builder.Services.AddSingleton(sp => new SessionCookieMarker(false));
        // The default scheme authenticates a key itself and hands cookie-only requests to the session scheme
        // (CtmAuthenticationHandler); the API-key scheme stays registered for challenges, refusals and explicit use.
        builder.Services.AddTransient<CtmAuthenticationHandler>();
        builder.Services.AddAuthentication(o =>
            {
                o.DefaultScheme = Scheme;
                o.AddScheme<CtmAuthenticationHandler>(Scheme, "API key or session");
            })
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        builder.Services.AddAuthorization(o => CtmPolicies.Add(o));
        builder.Services.AddTransient<ServiceKeyHandler>();
        return builder;
    }

    /// <summary>
    /// Adds an HttpOnly, SameSite=Strict session cookie that a page gets in exchange for a key (see
    /// <see cref="SignInWithKeyAsync"/>): browsers cannot put headers on <c>EventSource</c>. The session ends when its key is
    /// no longer configured.
    /// </summary>
    public static IHostApplicationBuilder AddCtmSessionCookie(this IHostApplicationBuilder builder, TimeSpan lifetime)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton(new SessionCookieMarker(true));
        builder.Services.AddAuthentication().AddCookie(CookieScheme, o =>
        {
            o.Cookie.Name = CookieName;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.ExpireTimeSpan = lifetime;
            o.SlidingExpiration = true;
            // An API answers with a status, never a redirect to a login page.
            o.Events.OnRedirectToLogin = c => Status(c.HttpContext, StatusCodes.Status401Unauthorized);
            o.Events.OnRedirectToAccessDenied = c => ApiKeyAuthenticationHandler.Forbid(c.HttpContext);
            o.Events.OnValidatePrincipal = c =>
            {
                var store = c.HttpContext.RequestServices.GetRequiredService<ApiKeyStore>();
                if (c.Properties.GetTokenValue(KeyTokenName) is not { } key || store.Find(key) is null)
                {
                    c.RejectPrincipal();
                }

                return Task.CompletedTask;
            };
        });
        return builder;
    }

    /// <summary>Checks <paramref name="key"/> and, when it is configured, opens a session for it; returns the identity or null.</summary>
    public static async Task<ApiKeyIdentity?> SignInWithKeyAsync(this HttpContext context, string key)
    {
        ArgumentNullException.ThrowIfNull(context);
        var store = context.RequestServices.GetRequiredService<ApiKeyStore>();
        if (store.Find(key) is not { } identity)
        {
            return null;
        }

        var properties = new AuthenticationProperties { IsPersistent = false };
        properties.StoreTokens([new AuthenticationToken { Name = KeyTokenName, Value = key }]);
        await context.SignInAsync(CookieScheme, ApiKeyAuthenticationHandler.Principal(identity, CookieScheme), properties);
        return identity;
    }

    /// <summary>The key the caller proved itself with: its header, or the one its session was opened with.</summary>
    public static async Task<string?> CallerKeyAsync(this HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (ApiKeyAuthenticationHandler.ReadKey(context.Request) is { } key)
        {
            return key;
        }

        return context.RequestServices.GetServices<SessionCookieMarker>().Any(m => m.Registered)
            ? await context.GetTokenAsync(CookieScheme, KeyTokenName)
            : null;
    }

    /// <summary>
    /// Who did it, for an audit log: the authenticated key's id. <paramref name="claimed"/> (a body field such as
    /// <c>operator</c>) is used only when authentication is off, where every caller is <c>anonymous</c>.
    /// </summary>
    public static string Actor(this ClaimsPrincipal user, string? claimed)
    {
        ArgumentNullException.ThrowIfNull(user);
        var name = user.Identity is { IsAuthenticated: true } identity ? identity.Name : null;
        return name is null || name == ApiKeyAuthenticationHandler.Anonymous
            ? (string.IsNullOrWhiteSpace(claimed) ? ApiKeyAuthenticationHandler.Anonymous : claimed)
            : name;
    }

    /// <summary>
    /// Maps <c>GET /v1/operations/routes</c> (every route, its methods and the policy guarding it) and stops the service at
    /// start if a route that changes state (anything but GET and HEAD) names no policy, or is anonymous without being
    /// marked with <see cref="AllowAnonymousSignIn{TBuilder}"/>.
    /// </summary>
    public static WebApplication MapRoutesApi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/v1/operations/routes", (EndpointDataSource endpoints) => TypedResults.Ok(RouteTable.Describe(endpoints.Endpoints)))
            .RequireAuthorization(CtmPolicies.Read);
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            if (!app.Services.GetRequiredService<IOptions<AuthOptions>>().Value.Enabled)
            {
                LogAuthenticationOff(app.Logger);
            }
            else if (app.Services.GetRequiredService<ApiKeyStore>().Count == 0)
            {
                LogNoKeys(app.Logger);
            }

            var unguarded = RouteTable.Unguarded(app.Services.GetRequiredService<EndpointDataSource>().Endpoints);
            if (unguarded.Count > 0)
            {
                LogUnguarded(app.Logger, string.Join("; ", unguarded));
                app.Lifetime.StopApplication();
            }
        });
        return app;
    }

    /// <summary>Opens a route without a key for GET and HEAD only (probes and scrapes map every method by default).</summary>
    public static TBuilder AnonymousRead<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AllowAnonymous().WithMetadata(new HttpMethodMetadata([HttpMethods.Get, HttpMethods.Head]));
    }

    /// <summary>Marks the one kind of route that changes state without a key: the one that checks a key and opens a session.</summary>
    public static TBuilder AllowAnonymousSignIn<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AllowAnonymous().WithMetadata(new SignInEndpoint());
    }

    private static Task Status(HttpContext context, int status)
    {
        context.Response.StatusCode = status;
        return Task.CompletedTask;
    }

    // Options validation reports a message, not an exception: the message names the setting or the file and line.
    private static bool Check(Action load)
    {
        try
        {
            load();
            return true;
        }
        catch (InvalidOperationException e)
        {
            throw new OptionsValidationException(AuthOptions.Section, typeof(AuthOptions), [e.Message]);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Auth:Enabled is false: every caller is 'anonymous' with every role. For experiments only")]
    private static partial void LogAuthenticationOff(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No API key is configured (Auth:KeysFile or Auth:Keys:<id>:Sha256): every call but the probes is refused with 401. scripts/keys.sh makes the demo's keys")]
    private static partial void LogNoKeys(ILogger logger);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Stopping: routes that change state have no authorization policy: {Routes}")]
    private static partial void LogUnguarded(ILogger logger, string routes);

    internal sealed record SessionCookieMarker(bool Registered);

    /// <summary>Metadata of a sign-in route: anonymous by design.</summary>
    public sealed class SignInEndpoint;
}
