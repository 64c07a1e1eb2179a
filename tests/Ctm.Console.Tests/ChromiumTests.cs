namespace Ctm.Console.Tests;

public sealed class ChromiumTests
{
    [Fact]
    public void RequireExecutable_Missing_FailsSayingHowToInstallIt()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Chromium.RequireExecutable("/nonexistent/chromium"));
        Assert.Contains("/nonexistent/chromium", e.Message, StringComparison.Ordinal);
        Assert.Contains("apt-get install -y chromium", e.Message, StringComparison.Ordinal);
    }
}
