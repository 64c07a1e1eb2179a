using System.Net;
using System.Security.Cryptography;
using System.Text;
using Ctm.ServiceDefaults.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ctm.ServiceDefaults.Tests;

/// <summary>The services' shared HttpClient (<c>AddCtmHttp</c>) against a real HTTP server on loopback.</summary>
public sealed class HttpResilienceTests
{
    [Theory]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.BadGateway)]
    [InlineData(HttpStatusCode.GatewayTimeout)]
    [InlineData(HttpStatusCode.RequestTimeout)]
    [InlineData(HttpStatusCode.TooManyRequests)]
    public async Task Get_TransientStatusTwiceThenOk_IsRetriedAndSucceeds(HttpStatusCode transient)
    {
        await using var server = await LoopbackServer.StartAsync(attempt => attempt <= 2 ? ((int)transient, "busy") : (200, "the rows"));
        using var host = CtmHost();
        using var client = Client(host);

        using var response = await client.GetAsync(server.Url, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("the rows", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(3, server.Requests);
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest)]
    [InlineData(HttpStatusCode.Unauthorized)]
    [InlineData(HttpStatusCode.NotFound)]
    [InlineData(HttpStatusCode.Conflict)]
    [InlineData(HttpStatusCode.UnprocessableEntity)]
    public async Task Get_ClientError_IsNotRetried(HttpStatusCode status)
    {
        await using var server = await LoopbackServer.StartAsync(_ => ((int)status, "no"));
        using var host = CtmHost();
        using var client = Client(host);

        using var response = await client.GetAsync(server.Url, TestContext.Current.CancellationToken);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(1, server.Requests);
    }

    [Fact]
    public async Task Get_Always503_GivesUpAfterFiveAttempts_WithTheLastResponse()
    {
        await using var server = await LoopbackServer.StartAsync(attempt => (503, $"down {attempt}"));
        using var host = CtmHost();
        using var client = Client(host);

        using var response = await client.GetAsync(server.Url, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal($"down {HttpExtensions.MaxAttempts}", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(HttpExtensions.MaxAttempts, server.Requests);
    }

    [Fact]
    public async Task RedeemClaimCheck_After503_ReturnsTheVerifiedBytes()
    {
        var bytes = Encoding.UTF8.GetBytes("a,b\n1,2\n");
        await using var server = await LoopbackServer.StartAsync(attempt => attempt == 1 ? (503, "busy") : (200, "a,b\n1,2\n"));
        using var host = CtmHost();

        var fetched = await host.Services.GetRequiredService<IHttpClientFactory>()
            .RedeemClaimCheckAsync(server.Url.ToString(), Convert.ToHexStringLower(SHA256.HashData(bytes)), TestContext.Current.CancellationToken);

        Assert.Equal(bytes, fetched);
        Assert.Equal(2, server.Requests);
    }

    [Fact]
    public async Task RedeemClaimCheck_Missing_ThrowsHttpRequestExceptionWith404_AfterOneRequest()
    {
        await using var server = await LoopbackServer.StartAsync(_ => (404, "no such batch"));
        using var host = CtmHost();

        var error = await Assert.ThrowsAsync<HttpRequestException>(() =>
            host.Services.GetRequiredService<IHttpClientFactory>().RedeemClaimCheckAsync(server.Url.ToString(), "00", TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.NotFound, error.StatusCode);
        Assert.Equal(1, server.Requests);
    }

    [Fact]
    public async Task Get_NothingListening_RetriesThenThrowsHttpRequestException()
    {
        Uri url;
        await using (var stopped = await LoopbackServer.StartAsync(_ => (200, "")))
        {
            url = stopped.Url;
        }

        using var host = CtmHost();
        using var client = Client(host);

        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(url, TestContext.Current.CancellationToken));
    }

    private static IHost CtmHost()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddCtmHttp();
        return builder.Build();
    }

    private static HttpClient Client(IHost host) => host.Services.GetRequiredService<IHttpClientFactory>().CreateClient(HttpExtensions.ClientName);

    /// <summary>Kestrel on a free loopback port; <c>respond</c> gets the 1-based number of the request and returns the status and body.</summary>
    private sealed class LoopbackServer : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private int _requests;

        private LoopbackServer(WebApplication app, Func<int, (int Status, string Body)> respond)
        {
            _app = app;
            app.Run(async context =>
            {
                var (status, body) = respond(Interlocked.Increment(ref _requests));
                context.Response.StatusCode = status;
                await context.Response.WriteAsync(body);
            });
        }

        public int Requests => Volatile.Read(ref _requests);

        public Uri Url { get; private set; } = null!;

        public static async Task<LoopbackServer> StartAsync(Func<int, (int Status, string Body)> respond)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var server = new LoopbackServer(builder.Build(), respond);
            await server._app.StartAsync();
            var address = server._app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
            server.Url = new Uri(new Uri(address), "claim/1");
            return server;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
