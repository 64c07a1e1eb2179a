using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Ctm.ServiceDefaults.Auth;
using Ctm.Testing;

namespace Ctm.EndToEnd.Tests.Security;

/// <summary>The five services for the authorization tests, started once for the class.</summary>
public sealed class AuthSystem : CtmSystem, IAsyncLifetime
{
}

/// <summary>
/// Who may do what, on the running services: every route each service serves (from its own endpoint table, so a route
/// added later is checked too) is called without a key, with a role it does not allow, and with one it allows.
/// </summary>
public sealed partial class AuthorizationTests(AuthSystem system) : IClassFixture<AuthSystem>
{
    // Routes open without a key, by design: probes and scrapes (orchestrators and Prometheus hold no key), the console's
    // page and scripts (they must load to ask for a key), and the session routes that exchange a key for a cookie.
    private static readonly string[] Anonymous =
        ["/health/live", "/health/ready", "/metrics", "/v2/health/live", "/v2/health/ready", "/console", "/console/{asset}", "/console/session"];

    [Fact]
    public async Task EveryRouteOfEveryService_NamesAPolicy_OrIsAnOpenProbe()
    {
        foreach (var service in CtmSystem.ServiceNames)
        {
            var routes = await RoutesAsync(service);
            Assert.NotEmpty(routes);
            foreach (var route in routes.Where(r => r.Mutating))
            {
                Assert.True(route.SignIn || (route.Policy is { } p && CtmPolicies.Roles.ContainsKey(p) && !route.Anonymous),
                    $"{service}: {string.Join(',', route.Methods)} {route.Route} changes state but has no authorization policy");
            }

            var open = routes.Where(r => r.Anonymous).Select(r => r.Route).Distinct().ToList();
            Assert.True(open.All(Anonymous.Contains), $"{service}: unexpected anonymous routes: {string.Join(", ", open.Except(Anonymous))}");
        }
    }

    [Fact]
    public async Task EveryMutatingRoute_WithoutAKey401_WithAnUnknownKey401_WithTheWrongRole403_WithTheRightRolePasses()
    {
        var checkedRoutes = 0;
        foreach (var service in CtmSystem.ServiceNames)
        {
            foreach (var route in (await RoutesAsync(service)).Where(r => r.Mutating && !r.SignIn))
            {
                var allowed = CtmPolicies.Roles[route.Policy!];
                var wrong = CtmRoles.All.Where(r => !allowed.Contains(r)).ToList();
                foreach (var method in route.Methods)
                {
                    var path = Fill(route.Route);
                    var what = $"{service} {method} {path} ({route.Policy})";
                    Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(service, null, method, path, what));
                    Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(service, "unknown", method, path, what));
                    foreach (var role in wrong)
                    {
                        Assert.Equal(HttpStatusCode.Forbidden, await SendAsync(service, TestKeys.OnlyRole(role), method, path, $"{what} as {role}"));
                    }

                    foreach (var role in allowed)
                    {
                        var status = await SendAsync(service, TestKeys.OnlyRole(role), method, path, $"{what} as {role}");
                        Assert.True(status is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden), $"{what} as {role}: {status}");
                    }

                    checkedRoutes++;
                }
            }
        }

        // The services' mutating routes as of this test: a drop means routes vanished from the tables, not that they are safe.
        Assert.True(checkedRoutes >= 30, $"only {checkedRoutes} mutating routes found");
    }

    [Fact]
    public async Task ProbesAndMetrics_AreOpen_ButData_NeedsAKey_AndThe401SaysHowToSendOne()
    {
        foreach (var service in CtmSystem.ServiceNames)
        {
            using var anonymous = system.Client(service, null);
            Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("health/live")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("health/ready")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("metrics")).StatusCode);
            var refused = await anonymous.GetAsync("v1/operations/routes");
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Equal("ApiKey realm=\"ctm\"", refused.Headers.WwwAuthenticate.ToString());
            Assert.Contains("Authorization: ApiKey <key>", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // The alternative header works as well as the main form.
        using var byHeader = new HttpClient { BaseAddress = system["Registry"].BaseUrl };
        byHeader.DefaultRequestHeaders.Add(ApiKeyAuthenticationHandler.HeaderName, TestKeys.Key(TestKeys.OnlyRole(CtmRoles.Reader)));
        Assert.Equal(HttpStatusCode.OK, (await byHeader.GetAsync("v1/models")).StatusCode);
    }

    [Fact]
    public async Task TheWrongRole_Gets403_NamingTheKeyItsRolesAndTheRolesNeeded()
    {
        using var reader = system.Client("Registry", TestKeys.OnlyRole(CtmRoles.Reader));
        var response = await reader.PostAsJsonAsync("v1/datasets/authz/rollbacks", new { targetVersion = 1, reason = "a reader trying" });
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("The key 'only-reader' has the role(s) reader; POST /v1/datasets/authz/rollbacks needs one of: operator. Use a key with that role.",
            problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task TheAuditLogs_RecordTheKeysIdentity_NotTheOperatorInTheBody()
    {
        const string dataset = "audit-identity";
        using var asAlice = system.Client("Registry", "alice");
        (await asAlice.PutAsJsonAsync($"v1/datasets/{dataset}/policy", new { mode = "manual", @operator = "mallory" })).EnsureSuccessStatusCode();
        var policy = await asAlice.GetFromJsonAsync<JsonElement>($"v1/datasets/{dataset}/policy");
        Assert.Equal("alice", policy.GetProperty("updatedBy").GetString());
        var audit = await asAlice.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{dataset}/audit");
        var entry = Assert.Single(audit!, a => a.GetProperty("action").GetString() == "set-policy");
        Assert.Equal("alice", entry.GetProperty("actor").GetString());

        using var asBob = system.Client("Validator", "bob");
        (await asBob.PutAsJsonAsync($"v1/datasets/{dataset}/thresholds/*", new { @operator = "mallory", reason = "quieter drift alarms", drift = new { enabled = false } })).EnsureSuccessStatusCode();
        var thresholds = await asBob.GetFromJsonAsync<JsonElement>($"v1/datasets/{dataset}/thresholds");
        var set = Assert.Single(thresholds.GetProperty("overrides").EnumerateArray());
        Assert.Equal("bob", set.GetProperty("updatedBy").GetString());
    }

    private async Task<List<RouteAuthorization>> RoutesAsync(string service)
    {
        using var reader = system.Client(service, TestKeys.OnlyRole(CtmRoles.Reader));
        return (await reader.GetFromJsonAsync<List<RouteAuthorization>>("v1/operations/routes", Json))!;
    }

    private async Task<HttpStatusCode> SendAsync(string service, string? identity, string method, string path, string what)
    {
        using var client = identity == "unknown" ? system.Client(service, null) : system.Client(service, identity);
        if (identity == "unknown")
        {
            client.DefaultRequestHeaders.Authorization = new("ApiKey", "ctm_not_a_configured_key");
        }

        using var request = new HttpRequestMessage(new HttpMethod(method), path.TrimStart('/'))
        {
            Content = method is "GET" or "HEAD" or "DELETE" ? null : new StringContent("{}", Encoding.UTF8, "application/json"),
        };
        using var response = await client.SendAsync(request);
        Assert.True(response.StatusCode != HttpStatusCode.NotFound || await response.Content.ReadAsStringAsync() is { Length: > 0 },
            $"{what}: an empty 404 means the route did not match; the test filled its parameters wrongly");
        return response.StatusCode;
    }

    // Route parameters get values that match their constraints: a GUID, a number, the action the regex allows, or a name.
    private static string Fill(string route) => Parameter().Replace(route, m => m.Groups["constraint"].Value switch
    {
        var c when c.StartsWith(":guid", StringComparison.Ordinal) => Guid.NewGuid().ToString(),
        var c when c.StartsWith(":int", StringComparison.Ordinal) => "1",
        var c when c.Contains("release", StringComparison.Ordinal) => "release",
        _ => m.Groups["name"].Value == "version" ? "1" : "authz",
    });

    [GeneratedRegex(@"\{(?<name>[a-zA-Z]+)(?<constraint>:[^}]*)?\}")]
    private static partial Regex Parameter();

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
}
