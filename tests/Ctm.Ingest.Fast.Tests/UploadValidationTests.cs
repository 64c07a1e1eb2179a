using System.Net;
using Ctm.Contracts;

namespace Ctm.Ingest.Fast.Tests;

/// <summary>
/// Uploads Ingest refuses at the edge: each answer names the problem and where it is (line, column, field, the setting
/// of a limit), and nothing refused is stored or announced.
/// </summary>
public sealed class UploadValidationTests(IngestService ingest) : IClassFixture<IngestService>
{
    [Fact]
    public async Task Upload_QuoteInsideAnUnquotedField_400WithLineColumnAndField()
    {
        var response = await ingest.UploadAsync("quotes", "tenure,plan,churned\n12,pro,no\n7,ba\"sic,yes\n");

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal("Malformed CSV", problem.Title);
        // Line 3, column 5: the quote itself, in the field named by the header.
        Assert.Equal(3, problem["line"]!.Value.GetInt32());
        Assert.Equal(5, problem["column"]!.Value.GetInt32());
        Assert.Equal("plan", problem["field"]!.Value.GetString());
        Assert.Contains("quote", problem.Detail, StringComparison.Ordinal);
        await AssertNothingStoredAsync("quotes");
    }

    [Fact]
    public async Task Upload_NulByte_400NamingTheCharacterAndItsPosition()
    {
        var lines = ChurnData.Csv(20, seed: 7).Split('\n');
        lines[2] = lines[2][..4] + "\0" + lines[2][4..];

        var response = await ingest.UploadAsync("nul", string.Join('\n', lines));

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal((3, 5), (problem["line"]!.Value.GetInt32(), problem["column"]!.Value.GetInt32()));
        Assert.Contains("NUL", problem.Detail, StringComparison.Ordinal);
        await AssertNothingStoredAsync("nul");
    }

    [Fact]
    public async Task Upload_MalformedJsonLines_400WithTheLine()
    {
        var response = await ingest.UploadAsync("jsonl", "{\"tenure\":1,\"plan\":\"pro\"}\n{\"tenure\":2,\"plan\":}\n", "application/x-ndjson");

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal("Malformed JSON Lines", problem.Title);
        Assert.Equal(2, problem["line"]!.Value.GetInt32());
        await AssertNothingStoredAsync("jsonl");
    }

    [Fact]
    public async Task Upload_BeyondMaxUploadBytes_413NamingTheSetting()
    {
        var body = "a,b\n" + string.Concat(Enumerable.Repeat("1,2\n", IngestService.MaxUploadBytes / 4 + 10));

        var response = await ingest.UploadAsync("large", body);

        var problem = await response.ProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal("Ingest:MaxUploadBytes", problem["limit"]!.Value.GetString());
        Assert.Contains(IngestService.MaxUploadBytes.ToString(System.Globalization.CultureInfo.InvariantCulture), problem.Detail, StringComparison.Ordinal);
        await AssertNothingStoredAsync("large");
    }

    [Theory]
    [InlineData("application/xml", "content type 'application/xml' is not accepted")]
    [InlineData("text/plain", "content type 'text/plain' is not accepted")]
    public async Task Upload_UnsupportedContentType_400SayingWhatIsAccepted(string contentType, string expected)
    {
        var response = await ingest.UploadAsync("types", "a,b\n1,2\n", contentType);

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains(expected, problem.Detail, StringComparison.Ordinal);
        Assert.Contains("text/csv", problem.Detail, StringComparison.Ordinal);
        await AssertNothingStoredAsync("types");
    }

    [Fact]
    public async Task Upload_HeaderOnly_400EmptyBatch()
    {
        var response = await ingest.UploadAsync("empty", "tenure,plan,churned\n");

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal("Empty batch", problem.Title);
        await AssertNothingStoredAsync("empty");
    }

    [Fact]
    public async Task Upload_InvalidDatasetName_400()
    {
        var response = await ingest.UploadAsync("Churn", "a,b\n1,2\n");

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal("Invalid dataset name", problem.Title);
        Assert.Contains("'Churn'", problem.Detail, StringComparison.Ordinal);
        Assert.Contains("lower-case", problem.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("reader", HttpStatusCode.Forbidden)]
    [InlineData("operator", HttpStatusCode.Forbidden)]
    [InlineData("service", HttpStatusCode.Forbidden)]
    public async Task Upload_WithoutTheProducerRole_403AndNothingStored(string role, HttpStatusCode expected)
    {
        var response = await ingest.UploadAsync("roles", ChurnData.Csv(10, seed: 1), identity: TestKeys.OnlyRole(role));

        Assert.Equal(expected, response.StatusCode);
        await AssertNothingStoredAsync("roles");
    }

    [Fact]
    public async Task Upload_WithoutAKey_401()
    {
        using var anonymous = ingest.Client(null);
        using var content = new StringContent("a,b\n1,2\n", System.Text.Encoding.UTF8, "text/csv");

        var response = await anonymous.PostAsync("v1/datasets/anonymous/batches", content);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private async Task AssertNothingStoredAsync(string dataset)
    {
        Assert.Equal(0L, await ingest.Database.ScalarAsync<long>("SELECT count(*) FROM ingest.batches WHERE dataset = @p0", dataset));
        Assert.Empty(ingest.Harness.PublishedSoFar<BatchIngested>(m => m.Dataset == dataset));
    }
}
