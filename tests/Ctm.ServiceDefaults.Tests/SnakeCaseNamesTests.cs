using Ctm.ServiceDefaults.Storage;

namespace Ctm.ServiceDefaults.Tests;

public sealed class SnakeCaseNamesTests
{
    [Theory]
    [InlineData("Id", "id")]
    [InlineData("RowCount", "row_count")]
    [InlineData("SamplesPerSecond", "samples_per_second")]
    [InlineData("Sha256", "sha256")]
    [InlineData("ArtifactSha256", "artifact_sha256")]
    [InlineData("HTTPStatus", "http_status")]
    [InlineData("BatchIds", "batch_ids")]
    public void ToSnakeCase_PascalCaseNames_MatchTheMigrations(string name, string expected) =>
        Assert.Equal(expected, SnakeCaseNames.ToSnakeCase(name));
}
