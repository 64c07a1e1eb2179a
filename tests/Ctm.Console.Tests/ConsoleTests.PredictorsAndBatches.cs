using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Ctm.Console.Tests;

/// <summary>The Predictors' live numbers and a batch's histograms on the page, checked against what the services themselves say.</summary>
public sealed partial class ConsoleTests
{
    private static readonly LocatorAssertionsToHaveTextOptions ShownExactly = new() { Timeout = 20_000 };

    [Fact]
    public async Task PredictorPanel_ShowsEachReplicasVersionAndLiveNumbers_FromRealPredictions()
    {
        await ScenarioAsync();
        using var registry = system.Client("Registry");
        using var predictor = system.Client("Predictor");
        var serving = (await registry.GetFromJsonAsync<JsonElement>($"v1/datasets/{Dataset}/serving")).GetProperty("version").GetInt32();
        var replica = (await predictor.GetFromJsonAsync<JsonElement>("v1/live-stats")).GetProperty("replica").GetString()!;
        var before = await RequestsTotalAsync(predictor);

        var errors = new List<string>();
        var page = await SignedInPageAsync(errors, "ops-console");
        await Expect(page.Locator("#predictors-live")).ToHaveTextAsync("live", new() { Timeout = 20_000 });
        var row = page.Locator($"#predictors tbody tr[data-replica='{replica}']");
        await Expect(row.Locator(".version")).ToHaveTextAsync($"v{serving}", ShownExactly);

        // Traffic while the page watches: one instance over and over, so after its first answer the hot-key cache answers.
        using var traffic = new CancellationTokenSource();
        var sent = 0;
        var sender = Task.Run(async () =>
        {
            while (!traffic.IsCancellationRequested)
            {
                await PredictAsync(predictor);
                sent++;
            }
        });
        try
        {
            await page.WaitForFunctionAsync(
                "r => { const row = document.querySelector(`#predictors tbody tr[data-replica='${r}']`);" +
                " return !!row && parseFloat(row.querySelector('.rps').textContent) > 0 && parseFloat(row.querySelector('.p99').textContent) > 0; }",
                replica, new() { Timeout = 30_000 });
            await Expect(row.Locator(".p99")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d+\.\d\d ms$"));
            Assert.True(double.Parse(await page.Locator("#predictor-totals [data-figure=rps] .figure").TextContentAsync() ?? "0", CultureInfo.InvariantCulture) > 0);
            await Chromium.ScreenshotAsync(page, "console-predictors-live");
        }
        finally
        {
            await traffic.CancelAsync();
            await sender;
        }

        // Once the traffic stops the counts hold still: the page shows exactly what was sent, and the cache's own counts.
        Assert.True(sent > 1, $"only {sent} prediction(s) were sent");
        await Expect(row.Locator(".requests")).ToHaveTextAsync((before + sent).ToString(CultureInfo.InvariantCulture), ShownExactly);
        var model = (await predictor.GetFromJsonAsync<JsonElement>($"v1/models/{Dataset}")).GetProperty("ctm");
        Assert.Equal("dynamic", model.GetProperty("path").GetString());
        var hits = model.GetProperty("cache").GetProperty("hits").GetInt64();
        var misses = model.GetProperty("cache").GetProperty("misses").GetInt64();
        Assert.True(hits >= sent - 1, $"the cache answered {hits} of {sent} repeats of one instance");
        await Expect(row.Locator(".cache")).ToHaveAttributeAsync("title", $"{hits} hits, {misses} misses since v{serving} loaded", new() { Timeout = 20_000 });
        var rate = (double)hits / (hits + misses) * 100;
        Assert.InRange(Percent(await row.Locator(".cache").TextContentAsync()), rate - 0.051, rate + 0.051);
        Assert.InRange(Percent(await page.Locator("#predictor-totals [data-figure=cache] .figure").TextContentAsync()), rate - 0.051, rate + 0.051);

        // The Registry's JSON says the same, and that it reached every replica it asked.
        var gathered = await registry.GetFromJsonAsync<JsonElement>($"console/api/datasets/{Dataset}/predictors");
        Assert.Empty(gathered.GetProperty("problems").EnumerateArray());
        var mine = gathered.GetProperty("replicas").EnumerateArray().Single(r => r.GetProperty("replica").GetString() == replica);
        Assert.Equal(before + sent, mine.GetProperty("stats").GetProperty("requestsTotal").GetInt64());
        Assert.Equal(serving, mine.GetProperty("version").GetInt32());
        await Chromium.ScreenshotAsync(page, "console-predictors-idle");
        Assert.True(errors.Count == 0, string.Join("\n", errors));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task BatchPanel_DrawsEachFeaturesHistogramBesideItsBaseline_WithTheValidatorsCounts()
    {
        var s = await ScenarioAsync();
        using var validator = system.Client("Validator");
        var decision = await validator.GetFromJsonAsync<JsonElement>($"v1/batches/{s.Good2}");
        var window = decision.GetProperty("windowBatchIds").EnumerateArray().Select(w => w.GetGuid()).ToList();
        Assert.NotEmpty(window);
        var columns = await ColumnCountsAsync(validator, s.Good2);
        var baseline = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var id in window)
        {
            foreach (var (name, count) in await ColumnCountsAsync(validator, id))
            {
                baseline[name] = baseline.GetValueOrDefault(name) + count;
            }
        }

        var errors = new List<string>();
        var page = await SignedInPageAsync(errors, "ops-console");
        await Expect(page.Locator($"#batch option[value='{s.Good2}']")).ToHaveCountAsync(1, new() { Timeout = 20_000 });
        await page.Locator("#batch").SelectOptionAsync(s.Good2.ToString());
        await Expect(page.Locator($"#batch-detail [data-batch='{s.Good2}']")).ToContainTextAsync($"the {window.Count} accepted batch(es) before it", Shown);
        await Expect(page.Locator("#histograms .hist")).ToHaveCountAsync(columns.Count, new() { Timeout = 20_000 });
        foreach (var (name, count) in columns)
        {
            var card = page.Locator($"#histograms .hist[data-feature='{name}']");
            await Expect(card.Locator(".sub").First).ToContainTextAsync($"n {count} vs {baseline[name]}");
            Assert.True(await card.Locator("rect.baseline").CountAsync() > 0, $"{name}: no baseline bar");
            Assert.True(await card.Locator("rect.current").CountAsync() > 0, $"{name}: no bar of the batch");
        }

        // Every value lands in some bar (these features have at most a dozen categories): each side's shares add up to one.
        var sums = await page.EvaluateAsync<JsonElement>(
            "() => [...document.querySelectorAll('#histograms .hist')].map(h => { const bars = [...h.querySelectorAll('g.bar')];" +
            " return { feature: h.dataset.feature, batch: bars.reduce((a, b) => a + Number(b.dataset.batchShare), 0), baseline: bars.reduce((a, b) => a + Number(b.dataset.baselineShare), 0) }; })");
        foreach (var sum in sums.EnumerateArray())
        {
            Assert.True(Math.Abs(sum.GetProperty("batch").GetDouble() - 1) < 1e-6, $"{sum}");
            Assert.True(Math.Abs(sum.GetProperty("baseline").GetDouble() - 1) < 1e-6, $"{sum}");
        }

        await page.Locator("#batches-panel").ScrollIntoViewIfNeededAsync();
        await Chromium.ScreenshotAsync(page, "console-batch-histograms");

        // The bad batch: its anomalies in full, a feature the baseline never had drawn alone, the features they name marked.
        var bad = await validator.GetFromJsonAsync<JsonElement>($"v1/batches/{s.Bad}");
        await page.Locator("#batch").SelectOptionAsync(s.Bad.ToString());
        await Expect(page.Locator($"#batch-detail [data-batch='{s.Bad}']")).ToBeVisibleAsync(new() { Timeout = 20_000 });
        var reasons = bad.GetProperty("reasons").EnumerateArray().ToList();
        Assert.NotEmpty(reasons);
        foreach (var reason in reasons)
        {
            await Expect(page.Locator("#batch-anomalies")).ToContainTextAsync(reason.GetProperty("description").GetString()!, Shown);
            if (reason.TryGetProperty("feature", out var f) && f.GetString() is { } feature && await page.Locator($"#histograms .hist[data-feature='{feature}']").CountAsync() > 0)
            {
                await Expect(page.Locator($"#histograms .hist[data-feature='{feature}']")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex(@"\bflagged\b"));
            }
        }

        var renamed = page.Locator("#histograms .hist[data-feature='tenure_months']");
        await Expect(renamed).ToContainTextAsync("no baseline to compare");
        Assert.Equal(0, await renamed.Locator("rect.baseline").CountAsync());
        Assert.True(await renamed.Locator("rect.current").CountAsync() > 0);
        await Chromium.ScreenshotAsync(page, "console-batch-anomalies");
        Assert.True(errors.Count == 0, string.Join("\n", errors));
        await page.Context.CloseAsync();
    }

    private static double Percent(string? text) => double.Parse((text ?? string.Empty).Replace(" %", string.Empty, StringComparison.Ordinal), CultureInfo.InvariantCulture);

    private static async Task<long> RequestsTotalAsync(HttpClient predictor)
    {
        var stats = await predictor.GetFromJsonAsync<JsonElement>("v1/live-stats");
        return stats.GetProperty("datasets").EnumerateArray().Where(d => d.GetProperty("dataset").GetString() == Dataset)
            .Select(d => d.GetProperty("requestsTotal").GetInt64()).SingleOrDefault();
    }

    private static async Task PredictAsync(HttpClient predictor)
    {
        var response = await predictor.PostAsJsonAsync($"v1/models/{Dataset}:predict",
            new { instances = new[] { new { tenure = 14, plan = "pro", monthly_fee = 42.5, support_calls = 3 } } });
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    private static async Task<List<(string Name, long Count)>> ColumnCountsAsync(HttpClient validator, Guid batch)
    {
        var statistics = await validator.GetFromJsonAsync<JsonElement>($"v1/batches/{batch}/statistics");
        return [.. statistics.GetProperty("columns").EnumerateArray().Select(c => (c.GetProperty("name").GetString()!, c.GetProperty("count").GetInt64()))];
    }
}
