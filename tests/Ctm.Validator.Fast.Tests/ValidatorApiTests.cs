using System.Net;
using System.Net.Http.Json;

namespace Ctm.Validator.Fast.Tests;

/// <summary>What the Validator's HTTP API refuses, and how it says so: the status, and a problem that names what to fix.</summary>
public sealed class ValidatorApiTests(ValidatorService validator) : IClassFixture<ValidatorService>
{
    [Fact]
    public async Task PutConfig_UnknownTask_400NamingTheTaskAndTheChoices()
    {
        using var client = validator.Client();

        var response = await client.PutAsJsonAsync("v1/datasets/churn/config", new { labelColumn = "churned", task = "clustering" });

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("'clustering'", problem.Detail, StringComparison.Ordinal);
        Assert.Contains("binary, multiclass, regression", problem.Detail, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("v1/datasets/churn/config")).StatusCode);
    }

    [Fact]
    public async Task Release_WithoutReason_400SayingTheReasonIsRequired()
    {
        using var client = validator.Client(TestKeys.OnlyRole("operator"));

        var response = await client.PostAsJsonAsync($"v1/batches/{Guid.NewGuid()}/release", new { applyProposals = true });

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("'reason' is required", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Discard_UnknownBatch_404NamingTheBatch()
    {
        using var client = validator.Client(TestKeys.OnlyRole("operator"));
        var id = Guid.NewGuid();

        var response = await client.PostAsJsonAsync($"v1/batches/{id}/discard", new { reason = "bad upstream" });

        var problem = await response.ProblemAsync(HttpStatusCode.NotFound);
        Assert.Contains(id.ToString(), problem.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("reader", HttpStatusCode.Forbidden)]
    [InlineData("producer", HttpStatusCode.Forbidden)]
    [InlineData("service", HttpStatusCode.Forbidden)]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    public async Task Release_WithoutTheOperatorRole_Refused(string? role, HttpStatusCode expected)
    {
        using var client = validator.Client(role is null ? null : TestKeys.OnlyRole(role));

        var response = await client.PostAsJsonAsync($"v1/batches/{Guid.NewGuid()}/release", new { reason = "let it in" });

        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task ReadRoutes_ReaderAllowed_KeylessRefusedButProbesOpen()
    {
        using var reader = validator.Client(TestKeys.OnlyRole("reader"));
        using var anonymous = validator.Client(null);

        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("v1/datasets/churn/batches")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("v1/datasets/churn/batches")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("health/live")).StatusCode);
    }
}
