using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Ctm.Testing;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Ctm.Console.Tests;

/// <summary>The console page in headless Chromium against the running system: what an operator sees and does there.</summary>
public sealed partial class ConsoleTests(ConsoleSystem system, Chromium chromium) : IClassFixture<ConsoleSystem>, IClassFixture<Chromium>
{
    private const string Dataset = "churn-console";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(150);

    // How long the page may take to show what the system already did: the event stream polls every second.
    private static readonly LocatorAssertionsToContainTextOptions Shown = new() { Timeout = 20_000 };

    [Fact]
    public async Task Console_Loads_ShowsTimelineLineageReplicasAndRuns()
    {
        var s = await ScenarioAsync();
        var errors = new List<string>();
        var page = await SignedInPageAsync(errors, "ops-console");

        await Expect(page.Locator("#dataset")).ToHaveValueAsync(Dataset);
        await Expect(page.Locator("#live")).ToHaveTextAsync("live", new() { Timeout = 20_000 });
        await Expect(page.Locator("#serving-now")).ToContainTextAsync($"serving v{s.ServingVersion}", Shown);
        await Expect(page.Locator("#timeline li[data-kind=promotion]").First).ToContainTextAsync($"v{s.ServingVersion} serving", Shown);
        await Expect(page.Locator("#replicas tbody tr[data-replica]").First).ToContainTextAsync($"v{s.ServingVersion}", Shown);
        await Expect(page.Locator("#lineage-svg svg")).ToHaveCountAsync(1);
        await Expect(page.Locator("#lineage-detail")).ToContainTextAsync(s.Good1.ToString()[^8..], Shown);

        // The Trainer's loss curve comes through the Registry's proxy and is a real picture, not a broken image.
        var loss = page.Locator("#runs .run img").First;
        await Expect(loss).ToBeVisibleAsync(new() { Timeout = 20_000 });
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('#runs .run img')].every(i => i.complete && i.naturalWidth > 0)");
        await Chromium.ScreenshotAsync(page, "console-loaded");
        Assert.True(errors.Count == 0, string.Join("\n", errors));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Quarantine_ShowsTheBatchWithItsReasons_AndReleaseFromThePage_NeedsReasonAndConfirmation_ThenSendsItOn()
    {
        var s = await ScenarioAsync();
        var errors = new List<string>();
        var page = await SignedInPageAsync(errors, "ops-console");

        using var validator = system.Client("Validator");
        var decision = await validator.GetFromJsonAsync<JsonElement>($"v1/batches/{s.Bad}");
        var reasons = decision.GetProperty("reasons").EnumerateArray().Select(r => r.GetProperty("description").GetString()!).ToList();
        Assert.NotEmpty(reasons);
        var card = page.Locator($"#quarantine [data-batch='{s.Bad}']");
        foreach (var reason in reasons)
        {
            await Expect(card.Locator(".reasons")).ToContainTextAsync(reason, Shown);
        }

        await Chromium.ScreenshotAsync(page, "console-quarantine");

        // Nothing is sent until the operator (the signed-in key, shown) gives a reason and ticks the confirmation.
        await card.Locator("button.release").ClickAsync();
        var ok = page.Locator("#confirm-ok");
        await Expect(page.Locator("#confirm")).ToBeVisibleAsync();
        await Expect(page.Locator("#confirm-who")).ToContainTextAsync("ops-console");
        await Expect(ok).ToBeDisabledAsync();
        await page.Locator("#confirm-reason").FillAsync("schema change agreed with upstream");
        await Expect(ok).ToBeDisabledAsync();
        Assert.Equal("quarantined", (await validator.GetFromJsonAsync<JsonElement>($"v1/batches/{s.Bad}")).GetProperty("status").GetString());
        await page.Locator("#confirm-check").CheckAsync();
        await Expect(ok).ToBeEnabledAsync();
        await Chromium.ScreenshotAsync(page, "console-release-dialog");
        await ok.ClickAsync();

        await Expect(page.Locator("#confirm")).ToBeHiddenAsync(new() { Timeout = 30_000 });
        // The card leaves the quarantine (other tests of the class may hold batches of their own there).
        await Expect(card).ToHaveCountAsync(0, new() { Timeout = Shown.Timeout });
        var released = await validator.GetFromJsonAsync<JsonElement>($"v1/batches/{s.Bad}");
        Assert.Equal("released", released.GetProperty("status").GetString());
        var audit = await validator.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{Dataset}/audit");
        Assert.Contains(audit!, a => a.GetProperty("batchId").GetGuid() == s.Bad && a.GetProperty("operator").GetString() == "ops-console"
            && a.GetProperty("reason").GetString() == "schema change agreed with upstream");

        // "Sends it on": the Registry hears the release over the bus and records the batch as released.
        using var registry = system.Client("Registry");
        await system.EventuallyAsync(async () =>
        {
            var batches = await registry.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{Dataset}/batches");
            return batches!.Any(b => b.GetProperty("batchId").GetGuid() == s.Bad && b.GetProperty("history").EnumerateArray().Any(h => h.GetProperty("status").GetString() == "released")) ? batches : null;
        }, Patience, $"the Registry to record batch {s.Bad} released");
        await Chromium.ScreenshotAsync(page, "console-released");
        Assert.True(errors.Count == 0, string.Join("\n", errors));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task ReleaseThroughTheConsoleProxy_WithoutAReason_IsRefusedNamingWhatIsMissing()
    {
        var s = await ScenarioAsync();
        using var registry = system.Client("Registry");
        var response = await registry.PostAsJsonAsync($"console/api/batches/{s.Good1}/release", new { @operator = "ops-console", reason = "  " });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("reason", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RollbackThroughTheApi_AppearsOnTheTimeline_WithoutReload()
    {
        var s = await ScenarioAsync();
        var errors = new List<string>();
        var page = await SignedInPageAsync(errors, "ops-console");
        await Expect(page.Locator("#live")).ToHaveTextAsync("live", new() { Timeout = 20_000 });
        await Expect(page.Locator("#timeline li[data-kind=promotion]").First).ToBeVisibleAsync(new() { Timeout = 20_000 });
        await page.EvaluateAsync("() => { window.ctmMarker = 'same page'; }");

        var reason = "console timeline check " + Guid.NewGuid().ToString("N")[..6];
        using var registry = system.Client("Registry", "ops-rollback");
        var rollback = await registry.PostAsJsonAsync($"v1/datasets/{Dataset}/rollbacks",
            new { targetVersion = s.ServingVersion, reason, @operator = "ops-rollback", force = true, waitSeconds = 0 });
        Assert.True(rollback.StatusCode == HttpStatusCode.OK, await rollback.Content.ReadAsStringAsync());

        var entry = page.Locator("#timeline li[data-kind=rollback]", new() { HasText = reason });
        await Expect(entry).ToContainTextAsync("ops-rollback", Shown);
        await Expect(entry).ToContainTextAsync($"v{s.ServingVersion}", Shown);
        Assert.Equal("same page", await page.EvaluateAsync<string>("() => window.ctmMarker"));
        await Chromium.ScreenshotAsync(page, "console-rollback-live");
        Assert.True(errors.Count == 0, string.Join("\n", errors));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task WithoutASession_TheApisAnswer401_AndAReadersSession_SeesTheQuarantineButCannotRelease()
    {
        await ScenarioAsync();
        using var anonymous = system.Client("Registry", null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"console/api/datasets/{Dataset}/quarantine")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("console/api/events")).StatusCode);
        var wrongKey = await anonymous.PostAsJsonAsync("console/session", new { key = "not-a-key" });
        Assert.Equal(HttpStatusCode.Unauthorized, wrongKey.StatusCode);

        // A batch of its own in quarantine: the scenario's may have been released by another test already.
        using var ingest = system.Client("Ingest");
        using var validator = system.Client("Validator");
        var held = await UploadAsync(ingest, ChurnData.Csv(120, seed: 31, wrongSchema: true));
        await system.EventuallyAsync(async () =>
        {
            var list = await validator.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{Dataset}/batches?status=quarantined");
            return list!.Any(b => b.GetProperty("batchId").GetGuid() == held) ? list : null;
        }, Patience, $"batch {held} in quarantine");

        var errors = new List<string>();
        var page = await SignedInPageAsync(errors, TestKeys.OnlyRole("reader"));
        await Expect(page.Locator("#who")).ToContainTextAsync("reader");
        var card = page.Locator($"#quarantine [data-batch='{held}']");
        await Expect(card).ToBeVisibleAsync(new() { Timeout = 20_000 });
        await card.Locator("button.discard").ClickAsync();
        await page.Locator("#confirm-reason").FillAsync("a reader trying");
        await page.Locator("#confirm-check").CheckAsync();
        await page.Locator("#confirm-ok").ClickAsync();
        await Expect(page.Locator("#confirm-error")).ToContainTextAsync("needs one of: operator", Shown);
        Assert.Equal("quarantined", (await validator.GetFromJsonAsync<JsonElement>($"v1/batches/{held}")).GetProperty("status").GetString());
        // The refused POST is the page's only failed request (the browser also logs it as a console error).
        Assert.Contains($"403 POST {Url($"/console/api/batches/{held}/discard")}", errors);
        Assert.All(errors, e => Assert.Contains("403", e, StringComparison.Ordinal));
        await page.Context.CloseAsync();
    }

    /// <summary>The page opened and signed in through its own dialog with <paramref name="identity"/>'s key.</summary>
    private async Task<IPage> SignedInPageAsync(List<string> errors, string identity)
    {
        var page = await chromium.NewPageAsync(errors);
        await page.GotoAsync(Url($"/console?dataset={Dataset}"));
        await Expect(page.Locator("#signin")).ToBeVisibleAsync();
        await page.Locator("#signin-key").FillAsync(TestKeys.Key(identity));
        await page.Locator("#signin-ok").ClickAsync();
        await Expect(page.Locator("#signin")).ToBeHiddenAsync();
        await Expect(page.Locator("#who")).ToContainTextAsync(identity);
        return page;
    }

    private string Url(string path) => new Uri(system["Registry"].BaseUrl, path).ToString();

    private async Task<ConsoleScenario> ScenarioAsync()
    {
        await system.ScenarioLock.WaitAsync();
        try
        {
            if (system.Scenario is { } done)
            {
                return done;
            }

            using var validator = system.Client("Validator");
            using var ingest = system.Client("Ingest");
            using var registry = system.Client("Registry");
            (await validator.PutAsJsonAsync($"v1/datasets/{Dataset}/config", new { labelColumn = "churned", task = "binary" })).EnsureSuccessStatusCode();
            var good1 = await UploadAsync(ingest, ChurnData.Csv(400, seed: 1));
            var good2 = await UploadAsync(ingest, ChurnData.Csv(400, seed: 2));
            var bad = await UploadAsync(ingest, ChurnData.Csv(200, seed: 3, wrongSchema: true));
            var serving = await system.EventuallyAsync(async () =>
            {
                var response = await registry.GetAsync($"v1/datasets/{Dataset}/serving");
                return response.StatusCode == HttpStatusCode.OK ? (JsonElement?)await response.Content.ReadFromJsonAsync<JsonElement>() : null;
            }, Patience, $"a version of {Dataset} serving");
            await system.EventuallyAsync(async () =>
            {
                var list = await validator.GetFromJsonAsync<List<JsonElement>>($"v1/datasets/{Dataset}/batches?status=quarantined");
                return list!.Any(b => b.GetProperty("batchId").GetGuid() == bad) ? list : null;
            }, Patience, $"batch {bad} in quarantine");
            system.Scenario = new ConsoleScenario(Dataset, good1, good2, bad, serving!.Value.GetProperty("version").GetInt32());
            return system.Scenario;
        }
        finally
        {
            system.ScenarioLock.Release();
        }
    }

    private static async Task<Guid> UploadAsync(HttpClient ingest, string csv)
    {
        using var content = new StringContent(csv, Encoding.UTF8, "text/csv");
        var response = await ingest.PostAsync($"v1/datasets/{Dataset}/batches", content);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("batchId").GetGuid();
    }
}
