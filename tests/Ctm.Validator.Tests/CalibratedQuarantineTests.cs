using System.Net.Http.Json;
using System.Text.Json;
using Ctm.Contracts;
using Ctm.Testing.Streams;
using MassTransit;
using static Ctm.Validator.Tests.Api;

namespace Ctm.Validator.Tests;

/// <summary>
/// The calibrated quarantine through the running services, on realistic time-ordered streams with default settings:
/// clean batches with daily and weekly cycles, growing domains and label-rate swings pass; persistent corruptions are
/// quarantined from their first batch to their last and kept out of the reference window; a late class widens the label.
/// </summary>
public sealed class CalibratedQuarantineTests(ValidatorFixture system) : IClassFixture<ValidatorFixture>
{
    private static async Task<List<(StreamBatch Batch, Guid Id)>> UploadAllAsync(HttpClient ingest, string dataset, IEnumerable<StreamBatch> batches)
    {
        var ids = new List<(StreamBatch, Guid)>();
        foreach (var batch in batches)
        {
            ids.Add((batch, await UploadAsync(ingest, dataset, batch.ToCsv())));
        }

        return ids;
    }

    [Fact]
    public async Task EventsStream_CleanBatchesPass_UnitChangeAndRenamedWeekdayQuarantinedThroughout_ReferenceStaysClean()
    {
        const string dataset = "events-stream";
        using var ingest = system.Client("Ingest");
        using var validator = system.Client("Validator");
        var bus = await system.BusAsync();
        var acceptedEvents = new List<BatchAccepted>();
        var handle = bus.ConnectReceiveEndpoint("validator-tests-accepted", e => e.Handler<BatchAccepted>(c =>
        {
            lock (acceptedEvents)
            {
                acceptedEvents.Add(c.Message);
            }

            return Task.CompletedTask;
        }));
        await handle.Ready;
        var stream = StreamGenerator.Generate(new StreamOptions
        {
            Kind = StreamKind.Events,
            Batches = 20,
            RowsPerBatch = 500,
            Seed = 7,
            Corruptions = [new CorruptionSpan(Corruption.UnitChange, 12, 2), new CorruptionSpan(Corruption.RenamedCategory, 15, 2)],
        });

        var uploaded = await UploadAllAsync(ingest, dataset, stream.Batches);
        var decisions = new List<JsonElement>();
        foreach (var (_, id) in uploaded)
        {
            decisions.Add(await system.DecisionAsync(id));
        }

        var lines = uploaded.Zip(decisions, (u, d) => $"batch {u.Batch.Index} {u.Batch.Corruption}: {d.GetProperty("status").GetString()} {string.Join(" | ", d.GetProperty("reasons").EnumerateArray().Where(r => r.GetProperty("severity").GetString() == "block").Select(r => r.GetProperty("description").GetString()))}").ToList();
        var report = string.Join(Environment.NewLine, lines);
        for (var i = 0; i < uploaded.Count; i++)
        {
            var expected = uploaded[i].Batch.IsClean ? "accepted" : "quarantined";
            Assert.True(decisions[i].GetProperty("status").GetString() == expected, $"batch {i} should be {expected}:{Environment.NewLine}{report}");
        }

        Assert.All(decisions.Skip(12).Take(2), d => Assert.Contains(d.GetProperty("reasons").EnumerateArray(), r => r.GetProperty("feature").GetString() == "amount" && r.GetProperty("severity").GetString() == "block"));
        Assert.All(decisions.Skip(15).Take(2), d => Assert.Contains(d.GetProperty("reasons").EnumerateArray(), r => r.GetProperty("feature").GetString() == "weekday" && r.GetProperty("kind").GetString() == "out-of-domain" && r.GetProperty("severity").GetString() == "block"));
        // The label's positive rate swings from batch to batch: never a reason to block.
        Assert.DoesNotContain(decisions, d => d.GetProperty("reasons").EnumerateArray().Any(r => r.GetProperty("feature").GetString() == stream.LabelColumn && r.GetProperty("severity").GetString() == "block"));

        // The batches after a corruption were compared with clean batches only.
        var corrupt = uploaded.Where(u => !u.Batch.IsClean).Select(u => u.Id).ToHashSet();
        Assert.All(decisions.Skip(1), d => Assert.DoesNotContain(Guids(d.GetProperty("windowBatchIds")), corrupt.Contains));

        // The first batch saw two or three weekdays; the weekday domain grew to seven as the Validator widened the schema.
        var schema = await validator.GetFromJsonAsync<JsonElement>($"v1/datasets/{dataset}/schema");
        var weekday = schema.GetProperty("definition").GetProperty("columns").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "weekday");
        Assert.Equal(7, weekday.GetProperty("domain").GetArrayLength());
        var audit = await ListAsync(validator, $"v1/datasets/{dataset}/audit");
        Assert.Contains(audit, a => a.GetProperty("action").GetString() == "widen-schema" && a.GetProperty("operator").GetString() == "validator" && a.GetProperty("reason").GetString()!.Contains("'weekday'", StringComparison.Ordinal));

        // Warnings travel with the accepted batch.
        var second = uploaded[1].Id;
        var accepted = await system.EventuallyAsync(() =>
        {
            lock (acceptedEvents)
            {
                return Task.FromResult(acceptedEvents.FirstOrDefault(a => a.BatchId == second));
            }
        }, Patience, "BatchAccepted of the second batch");
        Assert.Contains(accepted.Warnings ?? [], w => w.Feature == "weekday" && w.Kind == "out-of-domain" && w.Severity == "warn");
        Assert.Equal(decisions[1].GetProperty("schemaVersion").GetInt32(), accepted.SchemaVersion);
        await handle.StopAsync();
    }

    [Fact]
    public async Task WeatherStream_LateClass_AcceptedWithAWarning_AndTheLabelDomainWidened()
    {
        const string dataset = "weather-stream";
        using var ingest = system.Client("Ingest");
        using var validator = system.Client("Validator");
        var full = StreamGenerator.Generate(StreamOptions.WeatherBenchmark);
        var lateClass = full.LateClass!;
        var first = full.LateClassFirstBatch!.Value;

        var uploaded = await UploadAllAsync(ingest, dataset, full.Batches.Take(first + 1));
        var decisions = new List<JsonElement>();
        foreach (var (_, id) in uploaded)
        {
            decisions.Add(await system.DecisionAsync(id));
        }

        Assert.All(decisions, d => Assert.True(d.GetProperty("status").GetString() == "accepted", d.ToString()));
        var newClass = Assert.Single(decisions[first].GetProperty("reasons").EnumerateArray(), r => r.GetProperty("feature").GetString() == full.LabelColumn && r.GetProperty("kind").GetString() == "out-of-domain");
        Assert.Equal("warn", newClass.GetProperty("severity").GetString());
        Assert.Contains(lateClass, newClass.GetProperty("description").GetString(), StringComparison.Ordinal);

        var schema = await validator.GetFromJsonAsync<JsonElement>($"v1/datasets/{dataset}/schema");
        Assert.Equal(decisions[first].GetProperty("schemaVersion").GetInt32(), schema.GetProperty("version").GetInt32());
        var label = schema.GetProperty("definition").GetProperty("columns").EnumerateArray().Single(c => c.GetProperty("name").GetString() == full.LabelColumn);
        Assert.Contains(lateClass, label.GetProperty("domain").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal("validator", schema.GetProperty("createdBy").GetString());
    }
}
