using System.Reflection;
using System.Security.Claims;
using System.Text.Json;
using System.Net.Http.Headers;
using Ctm.Registry.Storage;
using Ctm.ServiceDefaults.Auth;
using Ctm.ServiceDefaults.Http;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Ctm.Registry.Console;

/// <summary>
/// The operators' console: one page (static HTML, CSS and plain JavaScript embedded in the assembly) that reads the
/// Registry's own APIs, and a few proxy endpoints so the browser talks to one origin when it needs the Validator
/// (quarantine, batches and their histograms, drift pictures), the Trainer (runs, loss curves) or the Predictor replicas (live numbers). Live updates come over server-sent events.
/// The page signs in once with a key (<c>POST /console/session</c>) and gets an HttpOnly session cookie, because an
/// <c>EventSource</c> cannot send headers; the proxy calls the other services with the caller's own key, so their
/// policies and audit logs see the operator, not the Registry.
/// </summary>
public static class ConsoleApi
{
    /// <summary>The named client for the proxy: no retries, because a release or discard must not be sent twice.</summary>
    public const string ClientName = "ctm-console";

    private static readonly Dictionary<string, string> Assets = new(StringComparer.Ordinal)
    {
        ["index.html"] = "text/html; charset=utf-8",
        ["console.js"] = "text/javascript; charset=utf-8",
        ["console.css"] = "text/css; charset=utf-8",
    };

    public static IHostApplicationBuilder AddRegistryConsole(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHttpClient(ClientName, c => c.Timeout = TimeSpan.FromSeconds(30));
        builder.Services.AddOptions<ConsoleOptions>().BindConfiguration(ConsoleOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.AddCtmSessionCookie(TimeSpan.FromHours(8));
        return builder;
    }

    public static IEndpointRouteBuilder MapConsole(this IEndpointRouteBuilder app)
    {
        // The page and its scripts are anonymous: they hold no data, and the page must load to ask for a key.
        app.MapGet("/console", () => Asset("index.html")).AllowAnonymous();
        app.MapGet("/console/{asset}", (string asset) => Asset(asset)).AllowAnonymous();
        app.MapPost("/console/session", SignInAsync).AllowAnonymousSignIn();
        // Anonymous so the page can ask "am I signed in?" without a 401 in the browser's console; it answers with an empty name.
        app.MapGet("/console/session", (ClaimsPrincipal user) => TypedResults.Ok(Who(user))).AllowAnonymous();
        app.MapDelete("/console/session", async (HttpContext context) =>
        {
            await context.SignOutAsync(AuthExtensions.CookieScheme);
            return TypedResults.NoContent();
        }).RequireAuthorization(CtmPolicies.Read);
        var api = app.MapGroup("/console/api").RequireAuthorization(CtmPolicies.Read);
        api.MapGet("/datasets", ListDatasetsAsync);
        api.MapGet("/datasets/{dataset}/quarantine", (string dataset, HttpContext context, IHttpClientFactory http, IOptions<ServiceUrls> urls, CancellationToken ct) =>
            ProxyAsync(context, http, urls.Value.Validator, "Validator", HttpMethod.Get, $"v1/datasets/{Uri.EscapeDataString(dataset)}/batches?status=quarantined", null, ct));
        api.MapGet("/datasets/{dataset}/batches", (string dataset, HttpContext context, IHttpClientFactory http, IOptions<ServiceUrls> urls, CancellationToken ct) =>
            ProxyAsync(context, http, urls.Value.Validator, "Validator", HttpMethod.Get, $"v1/datasets/{Uri.EscapeDataString(dataset)}/batches", null, ct));
        api.MapGet("/batches/{id:guid}/histograms", (Guid id, HttpContext context, IHttpClientFactory http, IOptions<ServiceUrls> urls, CancellationToken ct) =>
            ProxyAsync(context, http, urls.Value.Validator, "Validator", HttpMethod.Get, $"v1/batches/{id}/histograms", null, ct));
        api.MapGet("/batches/{id:guid}/drift.svg", (Guid id, HttpContext context, IHttpClientFactory http, IOptions<ServiceUrls> urls, CancellationToken ct) =>
            ProxyAsync(context, http, urls.Value.Validator, "Validator", HttpMethod.Get, $"v1/batches/{id}/drift.svg", null, ct));
        api.MapPost("/batches/{id:guid}/{action:regex(^(release|discard)$)}", ActAsync).RequireAuthorization(CtmPolicies.Operate);
        api.MapGet("/datasets/{dataset}/runs", (string dataset, HttpContext context, IHttpClientFactory http, IOptions<ServiceUrls> urls, CancellationToken ct) =>
            ProxyAsync(context, http, urls.Value.Trainer, "Trainer", HttpMethod.Get, $"v1/datasets/{Uri.EscapeDataString(dataset)}/runs", null, ct));
        api.MapGet("/runs/{id:guid}/loss.svg", (Guid id, HttpContext context, IHttpClientFactory http, IOptions<ServiceUrls> urls, CancellationToken ct) =>
            ProxyAsync(context, http, urls.Value.Trainer, "Trainer", HttpMethod.Get, $"v1/runs/{id}/loss.svg", null, ct));
        api.MapGet("/events", ConsoleEvents.StreamAsync);
        api.MapPredictorLiveStats();
        return app;
    }

    /// <summary>Every dataset the Registry knows: from its versions and from the batches it has tracked (a dataset whose batches are all in quarantine has no version yet).</summary>
    public static async Task<Ok<List<string>>> ListDatasetsAsync(RegistryDbContext db, CancellationToken ct)
    {
        var fromVersions = await db.Versions.AsNoTracking().Select(v => v.Dataset).Distinct().ToListAsync(ct);
        var fromBatches = await db.Batches.AsNoTracking().Select(b => b.Dataset).Distinct().ToListAsync(ct);
        return TypedResults.Ok(fromVersions.Union(fromBatches).Order(StringComparer.Ordinal).ToList());
    }

    /// <summary>
    /// Checks the key in the body (<c>{"key": "..."}</c>) and opens a session for it: an HttpOnly, SameSite=Strict cookie.
    /// The key travels in the body, not a header, so it never shows in access logs of the URL.
    /// </summary>
    public static async Task<Results<Ok<SessionDto>, ProblemHttpResult>> SignInAsync(SignInRequest body, HttpContext context)
    {
        if (string.IsNullOrWhiteSpace(body.Key))
        {
            return TypedResults.Problem(detail: "send {\"key\": \"<your API key>\"}", statusCode: StatusCodes.Status400BadRequest, title: "Key required");
        }

        return await context.SignInWithKeyAsync(body.Key.Trim()) is { } identity
            ? TypedResults.Ok(new SessionDto(identity.Id, identity.Roles))
            : TypedResults.Problem(detail: "That key is not one of the configured keys.", statusCode: StatusCodes.Status401Unauthorized, title: "Unknown API key");
    }

    /// <summary>Release or discard a quarantined batch through the Validator's API, as the caller; a reason is required, as there.</summary>
    public static async Task<IResult> ActAsync(Guid id, string action, OperatorAction body, HttpContext context, IHttpClientFactory http, IOptions<ServiceUrls> urls, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(body.Reason))
        {
            return TypedResults.Problem(detail: $"a {action} needs a reason", statusCode: StatusCodes.Status400BadRequest, title: "Missing reason");
        }

        return await ProxyAsync(context, http, urls.Value.Validator, "Validator", HttpMethod.Post, $"v1/batches/{id}/{action}", JsonSerializer.Serialize(new { body.Operator, body.Reason }, JsonSerializerOptions.Web), ct);
    }

    private static SessionDto Who(ClaimsPrincipal user) => user.Identity is { IsAuthenticated: true, Name: { } name }
        ? new(name, [.. user.FindAll(ClaimTypes.Role).Select(c => c.Value)])
        : new(string.Empty, []);

    private static async Task<IResult> ProxyAsync(HttpContext context, IHttpClientFactory http, Uri? baseUrl, string service, HttpMethod method, string path, string? json, CancellationToken ct)
    {
        if (baseUrl is null)
        {
            return TypedResults.Problem(detail: $"The setting Services:{service} (env Services__{service}) is missing: the console cannot reach the {service}.", statusCode: StatusCodes.Status503ServiceUnavailable, title: $"{service} not configured");
        }

        using var client = http.CreateClient(ClientName);
        using var request = new HttpRequestMessage(method, new Uri(baseUrl, path));
        if (await context.CallerKeyAsync() is { } key)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue(ApiKeyAuthenticationHandler.SchemeName, key);
        }

        if (json is not null)
        {
            request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        }

        try
        {
            using var response = await client.SendAsync(request, ct);
            var text = await response.Content.ReadAsStringAsync(ct);
            return Results.Text(text, response.Content.Headers.ContentType?.MediaType ?? "text/plain", System.Text.Encoding.UTF8, (int)response.StatusCode);
        }
        catch (HttpRequestException e)
        {
            return TypedResults.Problem(detail: $"The {service} at {baseUrl} did not answer: {e.Message}", statusCode: StatusCodes.Status502BadGateway, title: $"{service} unreachable");
        }
    }

    private static IResult Asset(string name)
    {
        if (!Assets.TryGetValue(name, out var type))
        {
            return TypedResults.NotFound();
        }

        var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"Ctm.Registry.Console.wwwroot.{name}")
            ?? throw new InvalidOperationException($"The console asset {name} is not embedded in the Registry assembly.");
        return TypedResults.Stream(stream, type);
    }
}

/// <summary>An operator's release or discard from the page (<c>operator</c> is accepted for older pages; the audit records the caller's key).</summary>
public sealed record OperatorAction(string? Operator, string? Reason);

/// <summary>A key to open a console session with.</summary>
public sealed record SignInRequest(string? Key);

/// <summary>Who the session belongs to (an empty name: no session).</summary>
public sealed record SessionDto(string Name, IReadOnlyList<string> Roles);
