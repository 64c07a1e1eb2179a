using Microsoft.Playwright;

namespace Ctm.Console.Tests;

/// <summary>
/// Debian's chromium driven by Playwright through its executable path: Playwright's own browser download cannot run
/// here, and CI installs the Debian package (scripts/infra.sh). A missing browser fails the tests, saying how to install it.
/// </summary>
public sealed class Chromium : IAsyncLifetime
{
    private static readonly string[] Args =
        ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    /// <summary><c>CTM_CHROMIUM</c> when set, else Debian's <c>/usr/bin/chromium</c>.</summary>
    public static string ExecutablePath => Environment.GetEnvironmentVariable("CTM_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    /// <summary>Where screenshots go: <c>.ctm/test-results/console</c>, beside the TRX files that <c>./ctm test</c> keeps.</summary>
    public static string Artifacts
    {
        get
        {
            var dir = Path.Combine(Ctm.Testing.TestEnvironment.RepositoryRoot, ".ctm", "test-results", "console");
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    public async ValueTask InitializeAsync()
    {
        RequireExecutable(ExecutablePath);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = ExecutablePath, Headless = true, Args = Args });
    }

    /// <summary>Fails, saying how to install Debian's chromium, when <paramref name="path"/> is not there.</summary>
    public static void RequireExecutable(string path)
    {
        if (!File.Exists(path))
        {
            throw new InvalidOperationException(
                $"No Chromium at {path}: the console tests drive Debian's chromium. Install it with 'sudo apt-get install -y chromium' " +
                "(./ctm test does this when it starts the infrastructure), or set CTM_CHROMIUM to a Chromium executable.");
        }
    }

    /// <summary>A fresh page at a laptop's screen size, its console errors collected into <paramref name="errors"/>.</summary>
    public async Task<IPage> NewPageAsync(List<string> errors)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1440, Height = 900 } });
        var page = await context.NewPageAsync();
        page.Console += (_, m) =>
        {
            if (m.Type == "error")
            {
                errors.Add($"{m.Text} ({m.Location})");
            }
        };
        page.PageError += (_, e) => errors.Add(e);
        page.Response += (_, r) =>
        {
            if (r.Status >= 400)
            {
                errors.Add($"{r.Status} {r.Request.Method} {r.Url}");
            }
        };
        return page;
    }

    public static async Task ScreenshotAsync(IPage page, string name) =>
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Artifacts, name + ".png"), FullPage = true });

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }
}
