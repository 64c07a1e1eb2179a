using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Ctm.Trainer.Fast.Tests;

/// <summary>What the Trainer's HTTP API refuses and how it says so, and a retrain request that arrives twice.</summary>
public sealed class TrainerApiTests(TrainerService trainer) : IClassFixture<TrainerService>
{
    [Fact]
    public async Task PutPolicy_BatchesTriggerWithZeroBatches_400NamingTheField()
    {
        using var client = trainer.Client(TestKeys.OnlyRole("operator"));

        var response = await client.PutAsJsonAsync("v1/datasets/churn/policy", new { trigger = "batches", everyBatches = 0, window = "all" });

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
        var errors = problem["errors"]!.Value;
        Assert.Contains("at least 1", errors.GetProperty("everyBatches")[0].GetString(), StringComparison.Ordinal);
        // Nothing was stored: the dataset still has the default policy.
        var policy = await client.GetFromJsonAsync<JsonElement>("v1/datasets/churn/policy");
        Assert.Equal(1, policy.GetProperty("everyBatches").GetInt32());
    }

    [Fact]
    public async Task PutPolicy_UnknownTrigger_400ListingTheTriggers()
    {
        using var client = trainer.Client(TestKeys.OnlyRole("operator"));

        var response = await client.PutAsJsonAsync("v1/datasets/churn/policy", new { trigger = "whenever", window = "all" });

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("batches", problem["errors"]!.Value.GetProperty("trigger")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Retrain_SameRequestIdTwice_OneJob()
    {
        using var client = trainer.Client(TestKeys.OnlyRole("operator"));
        var requestId = Guid.NewGuid();

        var first = await client.PostAsJsonAsync("v1/datasets/nothing-yet/retrain", new { requestId, fullRetrain = true });
        var second = await client.PostAsJsonAsync("v1/datasets/nothing-yet/retrain", new { requestId, fullRetrain = true });

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        var a = await first.Content.ReadFromJsonAsync<JsonElement>();
        var b = await second.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(a.GetProperty("id").GetGuid(), b.GetProperty("id").GetGuid());
        Assert.Equal(1L, await trainer.Database.ScalarAsync<long>("SELECT count(*) FROM trainer.jobs WHERE dataset = 'nothing-yet'"));
    }

    [Theory]
    [InlineData("reader", HttpStatusCode.Forbidden)]
    [InlineData("producer", HttpStatusCode.Forbidden)]
    [InlineData("service", HttpStatusCode.Forbidden)]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    public async Task Retrain_WithoutTheOperatorRole_RefusedAndNoJob(string? role, HttpStatusCode expected)
    {
        using var client = trainer.Client(role is null ? null : TestKeys.OnlyRole(role));

        var response = await client.PostAsJsonAsync("v1/datasets/not-allowed/retrain", new { fullRetrain = true });

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal(0L, await trainer.Database.ScalarAsync<long>("SELECT count(*) FROM trainer.jobs WHERE dataset = 'not-allowed'"));
    }
}
