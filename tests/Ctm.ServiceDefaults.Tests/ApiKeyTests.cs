using System.Net;
using Ctm.ServiceDefaults.Auth;
using Ctm.ServiceDefaults.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Ctm.ServiceDefaults.Tests;

public sealed class ApiKeyTests
{
    private const string Key = "ctm_a-key-for-tests";

    [Fact]
    public void Find_TheConfiguredKey_GivesItsIdAndRoles_AnyOtherGivesNothing()
    {
        var store = ApiKeyStore.Load(new AuthOptions { Keys = { ["alice"] = new ApiKeyEntry { Sha256 = ApiKeyStore.Hash(Key), Roles = "operator, producer" } } });
        var alice = store.Find(Key);
        Assert.Equal("alice", alice?.Id);
        Assert.Equal(["operator", "producer"], alice!.Roles);
        Assert.Null(store.Find(Key + "x"));
        // The configuration holds the hash: presenting the hash itself as the key proves nothing.
        Assert.Null(store.Find(ApiKeyStore.Hash(Key)));
    }

    [Fact]
    public void Find_AmongManyKeys_LongAndNonAsciiOnesToo_GivesTheOneThatMatches()
    {
        // Longer than the stack buffer the hash is taken from, and with multi-byte UTF-8 characters.
        var longKey = string.Concat(Enumerable.Repeat("ключ-", 80));
        var options = new AuthOptions { Keys = { ["long"] = new ApiKeyEntry { Sha256 = ApiKeyStore.Hash(longKey), Roles = "reader" } } };
        for (var i = 0; i < 40; i++)
        {
            options.Keys[$"k{i}"] = new ApiKeyEntry { Sha256 = ApiKeyStore.Hash($"key-{i}"), Roles = i % 2 == 0 ? "reader" : "operator" };
        }

        var store = ApiKeyStore.Load(options);
        Assert.Equal(41, store.Count);
        Assert.Equal("long", store.Find(longKey)?.Id);
        Assert.Equal("k17", store.Find("key-17")?.Id);
        Assert.Equal(["operator"], store.Find("key-17")!.Roles);
        Assert.Null(store.Find(longKey[..^1]));
        Assert.Null(store.Find(string.Empty));
    }

    [Fact]
    public void Load_TheKeysFile_ReadsIdRolesAndHash_SkippingCommentsAndBlankLines()
    {
        var path = Path.GetTempFileName();
        File.WriteAllText(path, $"# made by scripts/keys.sh\n\ndemo-reader reader {ApiKeyStore.Hash("r")}\ndemo-svc service {ApiKeyStore.Hash("s")}  # the services' own\n");
        var store = ApiKeyStore.Load(new AuthOptions { KeysFile = path });
        Assert.Equal(2, store.Count);
        Assert.Equal("demo-svc", store.Find("s")?.Id);
        File.Delete(path);
    }

    [Theory]
    [InlineData("not-hex", "reader", "must be 64 hex digits")]
    [InlineData("ok", "admin", "the unknown role 'admin'")]
    [InlineData("ok", "", "has no role")]
    public void Load_AMalformedEntry_FailsNamingTheSettingAndTheProblem(string hash, string roles, string expected)
    {
        var options = new AuthOptions { Keys = { ["bob"] = new ApiKeyEntry { Sha256 = hash == "ok" ? ApiKeyStore.Hash("k") : hash, Roles = roles } } };
        var e = Assert.Throws<InvalidOperationException>(() => ApiKeyStore.Load(options));
        Assert.Contains("Auth:Keys:bob", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_TheSameIdInlineAndInTheFile_IsRefused()
    {
        var path = Path.GetTempFileName();
        File.WriteAllText(path, $"bob reader {ApiKeyStore.Hash("b2")}\n");
        var options = new AuthOptions { KeysFile = path, Keys = { ["bob"] = new ApiKeyEntry { Sha256 = ApiKeyStore.Hash("b1"), Roles = "reader" } } };
        var e = Assert.Throws<InvalidOperationException>(() => ApiKeyStore.Load(options));
        Assert.Contains("configured twice", e.Message, StringComparison.Ordinal);
        File.Delete(path);
    }

    [Fact]
    public void Actor_IsTheAuthenticatedKey_NotTheClaimedName_ExceptWhenAuthenticationIsOff()
    {
        var alice = ApiKeyAuthenticationHandler.Principal(new ApiKeyIdentity("alice", ["operator"]), "ApiKey");
        Assert.Equal("alice", alice.Actor("mallory"));
        var anonymous = new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity(
            [new(System.Security.Claims.ClaimTypes.Name, ApiKeyAuthenticationHandler.Anonymous)], "ApiKey"));
        Assert.Equal("bob", anonymous.Actor("bob"));
        Assert.Equal("anonymous", anonymous.Actor(null));
    }

    [Fact]
    public void Unguarded_FindsAWriteWithoutAPolicy_AndAnAnonymousWrite_ButNotGuardedOnesOrProbes()
    {
        var builder = WebApplication.CreateBuilder();
        builder.AddCtmAuth();
        using var app = builder.Build();
        app.MapPost("/guarded", () => "ok").RequireAuthorization(CtmPolicies.Operate);
        app.MapPost("/forgotten", () => "oops");
        app.MapDelete("/open", () => "oops").AllowAnonymous();
        app.MapPost("/session", () => "ok").AllowAnonymousSignIn();
        app.MapGet("/read", () => "ok");
        app.Map("/probe", () => "ok").AnonymousRead();
        var endpoints = ((IEndpointRouteBuilder)app).DataSources.SelectMany(d => d.Endpoints);
        Assert.Equal(["POST /forgotten", "DELETE /open"], RouteTable.Unguarded(endpoints).Order(StringComparer.Ordinal).Reverse());
    }

    [Fact]
    public async Task ServiceKey_GoesToTheConfiguredServices_AndNowhereElse()
    {
        var urls = Options.Create(new ServiceUrls { Registry = new Uri("http://registry:8080/") });
        using var handler = new ServiceKeyHandler(Options.Create(new AuthOptions { ServiceKey = "svc-key" }), urls) { InnerHandler = new Echo() };
        using var client = new HttpClient(handler);
        Assert.Equal("ApiKey svc-key", await (await client.GetAsync("http://registry:8080/v1/datasets/d/versions/1/artifact")).Content.ReadAsStringAsync());
        // A claim-check location on another host (an external model's URL) never sees the key.
        Assert.Equal("none", await (await client.GetAsync("http://elsewhere.example/model.onnx")).Content.ReadAsStringAsync());
        Assert.Equal("none", await (await client.GetAsync("http://registry:9999/")).Content.ReadAsStringAsync());
    }

    private sealed class Echo : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(request.Headers.Authorization?.ToString() ?? "none") });
    }
}
