using System.Globalization;
using Ctm.Data.Parsing;
using Ctm.Testing.Streams;

namespace Ctm.Data.Tests.Streams;

public sealed class StreamGeneratorTests
{
    private static readonly GeneratedStream Events = StreamGenerator.Generate(StreamOptions.EventsBenchmark);
    private static readonly GeneratedStream Weather = StreamGenerator.Generate(StreamOptions.WeatherBenchmark);

    [Fact]
    public void Generate_SameOptions_GiveTheSameBytes_AndAnotherSeedDoesNot()
    {
        var again = StreamGenerator.Generate(StreamOptions.EventsBenchmark);
        var otherSeed = StreamGenerator.Generate(StreamOptions.EventsBenchmark with { Seed = 8 });

        Assert.Equal(Events.Batches.Select(b => b.ToCsv()), again.Batches.Select(b => b.ToCsv()));
        Assert.Equal(Events.Batches.Select(b => (b.From, b.To)), again.Batches.Select(b => (b.From, b.To)));
        Assert.NotEqual(Events.Batches[0].ToCsv(), otherSeed.Batches[0].ToCsv());
        Assert.Equal(
            Weather.Batches.Select(b => b.ToCsv()),
            StreamGenerator.Generate(StreamOptions.WeatherBenchmark).Batches.Select(b => b.ToCsv()));
    }

    [Fact]
    public void Benchmarks_HaveTheAgreedShape()
    {
        Assert.Equal(60, Events.Batches.Count);
        Assert.All(Events.Batches, b => Assert.Equal(500, b.Rows.Count));
        Assert.Equal(46, Events.Batches.Count(b => b.IsClean));
        Assert.Equal("binary", Events.Task);
        Assert.Equal(["hour", "weekday", "amount", "merchant", "city", "device", "label"], Events.Batches[0].Header);
        Assert.Equal(30, Weather.Batches.Count);
        Assert.All(Weather.Batches, b => Assert.True(b.IsClean));
        Assert.Equal("multiclass", Weather.Task);
        Assert.Equal(["station", "hour", "temperature", "humidity", "pressure", "wind", "condition"], Weather.Batches[0].Header);
    }

    [Fact]
    public void Batches_AreInTimeOrder_AndCoverLessTimeAsVolumeGrows()
    {
        foreach (var stream in new[] { Events, Weather })
        {
            for (var i = 0; i < stream.Batches.Count; i++)
            {
                Assert.True(stream.Batches[i].From <= stream.Batches[i].To);
                Assert.True(i == 0 || stream.Batches[i - 1].To <= stream.Batches[i].From, $"batch {i} starts before batch {i - 1} ends");
            }
        }

        var firstHours = Events.Batches.Take(5).Average(b => (b.To - b.From).TotalHours);
        var lastHours = Events.Batches.TakeLast(5).Average(b => (b.To - b.From).TotalHours);
        Assert.InRange(firstHours, 40, 80);
        Assert.True(lastHours < firstHours / 2, $"late batches cover {lastHours:0} h, early ones {firstHours:0} h");
        Assert.InRange((Events.Batches[^1].To - Events.Batches[0].From).TotalDays, 80, 100);
    }

    [Fact]
    public void Events_HaveADailyCycle_QuietNightsAndBusyEvenings()
    {
        var hours = Events.Batches.SelectMany(b => b.Column("hour")).Select(h => int.Parse(h!, CultureInfo.InvariantCulture)).ToArray();
        var night = hours.Count(h => h < 6) / (double)hours.Length;
        var evening = hours.Count(h => h is >= 16 and < 21) / (double)hours.Length;

        Assert.True(night < 0.10, $"night share {night:P1}");
        Assert.True(evening > 0.30, $"16:00-21:00 share {evening:P1}");
    }

    [Fact]
    public void Events_PositiveRatePerCleanBatch_SwingsAcrossTheTwelveToThirtySixPercentBand()
    {
        var rates = Events.Batches.Where(b => b.IsClean).Select(PositiveRate).ToArray();

        Assert.True(rates.Min() < 0.18, $"lowest clean positive rate {rates.Min():P1}");
        Assert.True(rates.Max() > 0.30, $"highest clean positive rate {rates.Max():P1}");
        Assert.All(rates, r => Assert.InRange(r, 0.08, 0.42));
    }

    [Fact]
    public void Events_NoEarlyBatchContainsAllSevenWeekdays_ButTheStreamDoes()
    {
        var clean = Events.Batches.Where(b => b.Corruption != Corruption.RenamedCategory).ToArray();

        Assert.All(clean.Take(10), b => Assert.True(b.Column("weekday").Distinct().Count() < 7, $"batch {b.Index} has every weekday"));
        Assert.Equal(["Fri", "Mon", "Sat", "Sun", "Thu", "Tue", "Wed"], clean.SelectMany(b => b.Column("weekday")).Distinct().Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Events_MerchantDomainGrows_SoLateBatchesCarryMerchantsTheFirstBatchesNeverSaw()
    {
        var early = Events.Batches.Take(5).SelectMany(b => b.Column("merchant")).ToHashSet();
        var late = Events.Batches.TakeLast(10).SelectMany(b => b.Column("merchant")).ToArray();
        var unseenShare = late.Count(m => !early.Contains(m)) / (double)late.Length;
        var total = Events.Batches.SelectMany(b => b.Column("merchant")).Distinct().Count();

        Assert.InRange(early.Count, 100, 160);
        Assert.True(total >= 300, $"{total} merchants in the whole stream");
        Assert.InRange(unseenShare, 0.15, 0.7);
        Assert.True(Events.Batches.SelectMany(b => b.Column("city")).Distinct().Count() >= 200);
    }

    [Fact]
    public void Events_DeviceMixShiftsAwayFromWeb_AndDeviceIsMissingInAboutOnePercentThroughout()
    {
        double WebShare(IEnumerable<StreamBatch> batches)
        {
            var devices = batches.SelectMany(b => b.Column("device")).Where(d => d is not null).ToArray();
            return devices.Count(d => d == "web") / (double)devices.Length;
        }

        Assert.True(WebShare(Events.Batches.Take(10)) > WebShare(Events.Batches.TakeLast(10)) + 0.1);
        for (var third = 0; third < 3; third++)
        {
            var devices = Events.Batches.Skip(third * 20).Take(20).SelectMany(b => b.Column("device")).ToArray();
            Assert.InRange(devices.Count(d => d is null) / (double)devices.Length, 0.004, 0.02);
        }

        // Missing is null (an empty CSV field), never an empty string, and only in the optional column.
        Assert.DoesNotContain(Events.Batches.SelectMany(b => b.Rows), row => row.Any(cell => cell is { Length: 0 }));
        Assert.DoesNotContain(Events.Batches.SelectMany(b => b.Rows), row => row.Where((cell, i) => i != 5 && cell is null).Any());
    }

    [Fact]
    public void Events_UnitChange_MultipliesAmountsByAHundred_OnlyInsideItsSpan()
    {
        var cleanMedian = Median(Events.Batches.Where(b => b.IsClean).SelectMany(Amounts));

        foreach (var batch in Events.Batches)
        {
            var ratio = Median(Amounts(batch)) / cleanMedian;
            var expected = batch.Index is >= 15 and <= 20 ? Corruption.UnitChange : batch.Corruption;
            Assert.Equal(expected, batch.Corruption);
            if (batch.Corruption == Corruption.UnitChange)
            {
                Assert.InRange(ratio, 60, 160);
            }
            else
            {
                Assert.InRange(ratio, 0.6, 1.6);
            }
        }
    }

    [Fact]
    public void Events_RenamedCategoryAndLabelFlip_ChangeOnlyTheirSpans()
    {
        string[] days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        foreach (var batch in Events.Batches)
        {
            var weekdays = batch.Column("weekday").Distinct().ToArray();
            if (batch.Index is >= 30 and <= 33)
            {
                Assert.Equal(Corruption.RenamedCategory, batch.Corruption);
                Assert.All(weekdays, d => Assert.Contains(d, new[] { "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday" }));
            }
            else
            {
                Assert.All(weekdays, d => Assert.Contains(d, days));
            }

            if (batch.Index is >= 44 and <= 47)
            {
                Assert.Equal(Corruption.LabelFlip, batch.Corruption);
                Assert.True(PositiveRate(batch) > 0.6, $"flipped batch {batch.Index} has a positive rate of {PositiveRate(batch):P1}");
            }
            else
            {
                Assert.True(PositiveRate(batch) < 0.45);
            }
        }
    }

    [Fact]
    public void Events_ConceptChange_KeepsEveryInputAndEveryEarlierBatch_AndMovesOnlyLaterLabels()
    {
        var concept = StreamGenerator.Generate(StreamOptions.ConceptBenchmark);
        var same = StreamGenerator.Generate(StreamOptions.ConceptBenchmark with { ConceptChangeBatch = null });
        var label = concept.Batches[0].Header.ToList().IndexOf("label");
        for (var b = 0; b < concept.Batches.Count; b++)
        {
            var (changed, unchanged) = (concept.Batches[b], same.Batches[b]);
            Assert.True(changed.IsClean);
            if (b < 20)
            {
                Assert.Equal(unchanged.ToCsv(), changed.ToCsv());
                continue;
            }

            Assert.Equal(unchanged.Rows.Select(r => r.Where((_, c) => c != label)), changed.Rows.Select(r => r.Where((_, c) => c != label)));
            var moved = changed.Rows.Zip(unchanged.Rows).Count(p => p.First[label] != p.Second[label]);
            Assert.True(moved > 60, $"batch {b}: only {moved} of {changed.Rows.Count} labels moved");
            Assert.InRange(PositiveRate(changed), PositiveRate(unchanged) - 0.1, PositiveRate(unchanged) + 0.1);
        }

        Assert.Throws<ArgumentException>(() => StreamGenerator.Generate(StreamOptions.WeatherBenchmark with { ConceptChangeBatch = 5 }));
        Assert.Throws<ArgumentException>(() => StreamGenerator.Generate(StreamOptions.ConceptBenchmark with { ConceptChangeBatch = 30 }));
    }

    [Fact]
    public void Weather_LateClass_IsAbsentBeforeItsFirstBatch_AndGrowsAfter()
    {
        var snowShare = Weather.Batches.Select(b => b.Column("condition").Count(c => c == "snow") / (double)b.Rows.Count).ToArray();
        var first = Weather.LateClassFirstBatch!.Value;

        Assert.Equal("snow", Weather.LateClass);
        Assert.InRange(first, 10, 12);
        Assert.All(snowShare.Take(first), s => Assert.Equal(0, s));
        Assert.True(snowShare[first] is > 0 and < 0.05, $"snow is {snowShare[first]:P1} of its first batch");
        Assert.True(snowShare.Skip(first).Count(s => s > 0) >= 0.8 * (Weather.Batches.Count - first));
        Assert.True(snowShare.TakeLast(5).Average() > 0.1, $"snow is {snowShare.TakeLast(5).Average():P1} of the last five batches");
        Assert.Equal(
            ["clear", "cloudy", "fog", "rain", "snow"],
            Weather.Batches.SelectMany(b => b.Column("condition")).Distinct().Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Weather_StationsGrow_AndTheClassMixSwingsWithRegimes()
    {
        var firstStations = Weather.Batches[0].Column("station").Distinct().Count();
        var lastStations = Weather.Batches[^1].Column("station").Distinct().Count();
        var clearShares = Weather.Batches.Select(b => b.Column("condition").Count(c => c == "clear") / (double)b.Rows.Count).ToArray();

        Assert.True(lastStations >= firstStations + 10, $"{firstStations} stations first, {lastStations} last");
        Assert.True(clearShares.Max() - clearShares.Min() > 0.4, $"clear share spans {clearShares.Min():P0}-{clearShares.Max():P0}");
    }

    [Fact]
    public void Weather_Corruptions_ChangeTheirColumnsOnlyInsideTheirSpans()
    {
        var stream = StreamGenerator.Generate(StreamOptions.WeatherBenchmark with
        {
            Corruptions = [new(Corruption.UnitChange, 3, 2), new(Corruption.RenamedCategory, 8, 2), new(Corruption.LabelFlip, 14, 3)],
        });

        foreach (var (batch, clean) in stream.Batches.Zip(Weather.Batches))
        {
            var temperatures = batch.Column("temperature").Select(t => double.Parse(t!, CultureInfo.InvariantCulture)).ToArray();
            var celsius = clean.Column("temperature").Select(t => double.Parse(t!, CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(batch.Index is 3 or 4, batch.Corruption == Corruption.UnitChange);
            Assert.Equal(batch.Corruption == Corruption.UnitChange ? (celsius.Average() * 9 / 5) + 32 : celsius.Average(), temperatures.Average(), 0.1);
            Assert.All(batch.Column("station"), s => Assert.StartsWith(batch.Index is 8 or 9 ? "WX-" : "st", s));
            var expectedLabels = clean.Column("condition").Select(c => batch.Index is >= 14 and <= 16 ? c switch { "rain" => "clear", "clear" => "rain", _ => c } : c);
            Assert.Equal(expectedLabels, batch.Column("condition"));
        }
    }

    [Fact]
    public void ToCsv_ParsesBackWithTheProjectsCsvReader_ToTheSameRows()
    {
        foreach (var batch in Events.Batches.Concat(Weather.Batches))
        {
            using var bytes = new MemoryStream(batch.ToCsvBytes());
            var parsed = TabularBatch.ReadCsv(bytes, $"batch {batch.Index}");

            Assert.Equal(batch.Header, parsed.Columns);
            Assert.Equal(batch.Rows, parsed.Rows);
            Assert.Equal(batch.ToCsvBytes(), CsvTableWriter.ToBytes(parsed));
        }
    }

    [Fact]
    public void Generate_InvalidOptions_FailWithAMessageNamingTheProblem()
    {
        var overlap = Assert.Throws<ArgumentException>(() => StreamGenerator.Generate(new StreamOptions
        {
            Corruptions = [new(Corruption.UnitChange, 5, 3), new(Corruption.LabelFlip, 7, 2)],
        }));
        var outside = Assert.Throws<ArgumentException>(() => StreamGenerator.Generate(new StreamOptions
        {
            Batches = 10,
            Corruptions = [new(Corruption.UnitChange, 8, 3)],
        }));
        var rows = Assert.Throws<ArgumentException>(() => StreamGenerator.Generate(new StreamOptions { RowsPerBatch = 0 }));

        Assert.Contains("overlap", overlap.Message, StringComparison.Ordinal);
        Assert.Contains("batches 0-9", outside.Message, StringComparison.Ordinal);
        Assert.Contains("RowsPerBatch", rows.Message, StringComparison.Ordinal);
    }

    private static double PositiveRate(StreamBatch batch) => batch.Column("label").Count(v => v == "1") / (double)batch.Rows.Count;

    private static IEnumerable<double> Amounts(StreamBatch batch) => batch.Column("amount").Select(a => double.Parse(a!, CultureInfo.InvariantCulture));

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
