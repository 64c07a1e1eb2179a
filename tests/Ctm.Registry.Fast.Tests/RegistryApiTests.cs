using System.Net;
using System.Net.Http.Json;

namespace Ctm.Registry.Fast.Tests;

/// <summary>What the Registry's HTTP API refuses, and how it says so.</summary>
public sealed class RegistryApiTests(RegistryService registry) : IClassFixture<RegistryService>
{
    [Fact]
    public async Task Rollback_NamingNeitherVersionNorBatches_400SayingWhatToName()
    {
        using var client = registry.Client(TestKeys.OnlyRole("operator"));

        var response = await client.PostAsJsonAsync("v1/datasets/churn/rollbacks", new { reason = "something is off" });

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("targetVersion", problem.Detail, StringComparison.Ordinal);
        Assert.Contains("corruptBatchId", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rollback_ToAVersionThatDoesNotExist_404NamingIt()
    {
        using var client = registry.Client(TestKeys.OnlyRole("operator"));

        var response = await client.PostAsJsonAsync("v1/datasets/churn/rollbacks", new { targetVersion = 7, reason = "back to the good one" });

        var problem = await response.ProblemAsync(HttpStatusCode.NotFound);
        Assert.Contains("no version 7", problem.Detail, StringComparison.Ordinal);
        Assert.Equal(0L, await registry.Database.ScalarAsync<long>("SELECT count(*) FROM registry.outbox"));
    }

    [Fact]
    public async Task PutPolicy_UnknownMode_400NamingTheModes()
    {
        using var client = registry.Client(TestKeys.OnlyRole("operator"));

        var response = await client.PutAsJsonAsync("v1/datasets/churn/policy", new { mode = "yolo" });

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("'yolo'", problem.Detail, StringComparison.Ordinal);
        using var reader = registry.Client(TestKeys.OnlyRole("reader"));
        var policy = await reader.GetFromJsonAsync<System.Text.Json.JsonElement>("v1/datasets/churn/policy");
        Assert.Equal("auto", policy.GetProperty("mode").GetString());
    }

    [Theory]
    [InlineData("reader", HttpStatusCode.Forbidden)]
    [InlineData("producer", HttpStatusCode.Forbidden)]
    [InlineData("service", HttpStatusCode.Forbidden)]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    public async Task Rollback_WithoutTheOperatorRole_Refused(string? role, HttpStatusCode expected)
    {
        using var client = registry.Client(role is null ? null : TestKeys.OnlyRole(role));

        var response = await client.PostAsJsonAsync("v1/datasets/churn/rollbacks", new { targetVersion = 1, reason = "r" });

        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task GetVersion_Unknown_404()
    {
        using var client = registry.Client(TestKeys.OnlyRole("reader"));

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("v1/datasets/churn/versions/3")).StatusCode);
    }
}
