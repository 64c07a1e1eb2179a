using System.Globalization;

namespace Ctm.Testing.Streams;

/// <summary>
/// Hourly-ish reports from a growing set of weather stations, starting in autumn: temperature with a daily and a
/// seasonal cycle, weather regimes (high pressure, unsettled, humid calm) that last a few days and swing the class
/// mix, and a late class (<c>snow</c>) that appears once winter arrives mid-stream. Every tunable is a named
/// constant below; docs/streams.md explains each.
/// </summary>
internal static class WeatherStream
{
    public const string Label = "condition";
    public const string LateClass = "snow";

    public static readonly DateTimeOffset Start = new(2026, 10, 1, 0, 0, 0, TimeSpan.Zero);

    // Stations and volume.
    public const int InitialStations = 24;

    /// <summary>A new station comes online every this many batches.</summary>
    public const int BatchesPerNewStation = 2;

    /// <summary>Chance that a station reports in a given hour (about four reports a station a day).</summary>
    public const double ReportChancePerHour = 0.17;

    public const double StationTemperatureSd = 1.2;
    public const double StationHumiditySd = 4;

    // Temperature (°C): annual cosine with its peak on day 215 of the year (a maritime lag), plus a daily cycle peaking at 15:00.
    public const double AnnualMeanTemperature = 9.5;
    public const double AnnualTemperatureAmplitude = 13;
    public const double WarmestDayOfYear = 215;
    public const double DailyTemperatureAmplitude = 3.5;
    public const double TemperatureNoiseSd = 1.2;

    /// <summary>Precipitation falls as snow at or below this temperature.</summary>
    public const double SnowMaxTemperature = 0.0;

    /// <summary>A weather regime lasts between these many hours (1-5 days), then gives way to a different one.</summary>
    public const int RegimeMinHours = 24;

    public const int RegimeMaxHours = 120;

    /// <summary>Share of rows whose optional <c>wind</c> cell is empty (a flaky anemometer, constant over time).</summary>
    public const double WindMissingShare = 0.015;

    private static readonly Regime[] Regimes =
    [
        new("high pressure", Weight: 0.4, Pressure: 1026, Humidity: 62, Wind: 3.0, PrecipitationLogit: -3.5, Cloud: 0.2, DailyCycle: 1.3),
        new("unsettled", Weight: 0.4, Pressure: 1004, Humidity: 86, Wind: 8.0, PrecipitationLogit: 0.2, Cloud: 0.75, DailyCycle: 0.6),
        new("humid calm", Weight: 0.2, Pressure: 1017, Humidity: 93, Wind: 1.5, PrecipitationLogit: -2.0, Cloud: 0.5, DailyCycle: 0.8),
    ];

    private static readonly string[] Columns = ["station", "hour", "temperature", "humidity", "pressure", "wind", Label];

    public static GeneratedStream Generate(StreamOptions options)
    {
        var random = StreamRandom.For(options.Seed, 2);
        var stations = new List<(double Temperature, double Humidity)>();
        for (var i = 0; i < InitialStations; i++)
        {
            AddStation();
        }

        var regime = Regimes[0];
        var regimeHoursLeft = RegimeMinHours + random.Next(RegimeMaxHours - RegimeMinHours + 1);
        var hour = 0;
        var batches = new List<StreamBatch>(options.Batches);
        var pending = new Queue<(DateTimeOffset Time, int Station)>();
        int? firstSnow = null;
        for (var b = 0; b < options.Batches; b++)
        {
            if (b > 0 && b % BatchesPerNewStation == 0)
            {
                AddStation();
            }

            var corruption = options.CorruptionAt(b);
            var rows = new List<string?[]>(options.RowsPerBatch);
            DateTimeOffset? from = null;
            var to = Start;
            while (rows.Count < options.RowsPerBatch)
            {
                if (pending.Count == 0)
                {
                    FillHour(hour++);
                    continue;
                }

                var (time, station) = pending.Dequeue();
                from ??= time;
                to = time;
                var row = Realize(time, station, corruption);
                if (row[^1] == LateClass)
                {
                    firstSnow ??= b;
                }

                rows.Add(row);
            }

            batches.Add(new StreamBatch(b, from!.Value, to, Columns, rows, corruption));
        }

        return new GeneratedStream(options, Label, "multiclass", ["hour", "temperature", "humidity", "pressure", "wind"], ["station"], batches)
        {
            LateClass = LateClass,
            LateClassFirstBatch = firstSnow,
        };

        Regime NextRegime(Regime current)
        {
            var others = Regimes.Where(r => r != current).ToArray();
            var pick = random.NextDouble() * others.Sum(r => r.Weight);
            foreach (var candidate in others)
            {
                pick -= candidate.Weight;
                if (pick < 0)
                {
                    return candidate;
                }
            }

            return others[^1];
        }

        void AddStation() => stations.Add((random.Normal(0, StationTemperatureSd), random.Normal(0, StationHumiditySd)));

        void FillHour(int index)
        {
            if (--regimeHoursLeft <= 0)
            {
                regime = NextRegime(regime);
                regimeHoursLeft = RegimeMinHours + random.Next(RegimeMaxHours - RegimeMinHours + 1);
            }

            var start = Start.AddHours(index);
            var reports = new List<(double Second, int Station)>();
            for (var s = 0; s < stations.Count; s++)
            {
                if (random.Chance(ReportChancePerHour))
                {
                    reports.Add((random.NextDouble() * 3600, s));
                }
            }

            reports.Sort((a, c) => a.Second.CompareTo(c.Second));
            foreach (var (second, station) in reports)
            {
                pending.Enqueue((start.AddSeconds(Math.Floor(second)), station));
            }
        }

        string?[] Realize(DateTimeOffset time, int station, Corruption corruption)
        {
            var (stationTemperature, stationHumidity) = stations[station];
            var dayOfYear = time.DayOfYear + (time.Hour / 24.0);
            var seasonal = AnnualMeanTemperature + (AnnualTemperatureAmplitude * Math.Cos(2 * Math.PI * (dayOfYear - WarmestDayOfYear) / 365.0));
            var daily = DailyTemperatureAmplitude * regime.DailyCycle * Math.Cos(2 * Math.PI * (time.Hour - 15) / 24.0);
            var temperature = seasonal + stationTemperature + daily + random.Normal(0, TemperatureNoiseSd);
            var humidity = Math.Clamp(regime.Humidity + stationHumidity - (1.2 * daily) + random.Normal(0, 6), 15, 100);
            var pressure = regime.Pressure + random.Normal(0, 5);
            var wind = Math.Max(0, regime.Wind + random.Normal(0, 2.5));

            var precipitationLogit = regime.PrecipitationLogit + (0.08 * (humidity - 85)) - (0.06 * (pressure - 1010));
            string condition;
            if (random.NextDouble() < 1 / (1 + Math.Exp(-precipitationLogit)))
            {
                condition = temperature <= SnowMaxTemperature ? LateClass : "rain";
            }
            else if (humidity > 92 && wind < 3 && random.Chance(0.7))
            {
                condition = "fog";
            }
            else
            {
                // Clouds come with humid air and falling pressure, so the observed columns tell cloudy from clear.
                var cloudLogit = Math.Log(regime.Cloud / (1 - regime.Cloud)) + (0.1 * (humidity - 75)) - (0.05 * (pressure - 1015));
                condition = random.NextDouble() < 1 / (1 + Math.Exp(-cloudLogit)) ? "cloudy" : "clear";
            }

            if (corruption == Corruption.LabelFlip)
            {
                condition = condition switch { "rain" => "clear", "clear" => "rain", _ => condition };
            }

            var shownTemperature = corruption == Corruption.UnitChange ? (temperature * 9 / 5) + 32 : temperature;
            var number = (station + 1).ToString("00", CultureInfo.InvariantCulture);
            return
            [
                corruption == Corruption.RenamedCategory ? "WX-" + number : "st" + number,
                time.Hour.ToString(CultureInfo.InvariantCulture),
                shownTemperature.ToString("0.0", CultureInfo.InvariantCulture),
                humidity.ToString("0", CultureInfo.InvariantCulture),
                pressure.ToString("0.0", CultureInfo.InvariantCulture),
                random.Chance(WindMissingShare) ? null : wind.ToString("0.0", CultureInfo.InvariantCulture),
                condition,
            ];
        }
    }

    private sealed record Regime(string Name, double Weight, double Pressure, double Humidity, double Wind, double PrecipitationLogit, double Cloud, double DailyCycle);
}
