using System.Globalization;

namespace Ctm.Testing.Streams;

/// <summary>
/// Card-payment-like events: arrivals from an hourly Poisson process whose intensity has a daily and a weekly
/// cycle and grows over time; merchants and cities drawn from Zipf populations that grow; a logistic label with
/// latent merchant and city risk, mild concept drift and a per-batch base-rate swing. Every tunable is a named
/// constant below; docs/streams.md explains each.
/// </summary>
internal static class EventsStream
{
    public const string Label = "label";

    // Time and volume.
    public static readonly DateTimeOffset Start = new(2026, 9, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Mean events per hour at the start (averaged over the daily and weekly cycle): 500 rows ≈ 2.6 days.</summary>
    public const double InitialEventsPerHour = 8.0;

    /// <summary>Volume growth per day (1.2 % a day ≈ ×2.9 over three months): late batches cover under a day.</summary>
    public const double VolumeGrowthPerDay = 0.012;

    /// <summary>Relative intensity by hour of day: quiet nights, busy afternoons and evenings (normalized to mean 1).</summary>
    public static readonly double[] HourlyIntensity = Normalize(
    [
        0.25, 0.18, 0.14, 0.12, 0.12, 0.18, 0.35, 0.60, 0.85, 1.00, 1.10, 1.20,
        1.30, 1.30, 1.35, 1.45, 1.55, 1.65, 1.75, 1.80, 1.70, 1.40, 0.95, 0.50,
    ]);

    /// <summary>Relative intensity by weekday, Monday first: busier Fridays and Saturdays, a quiet Sunday.</summary>
    public static readonly double[] WeekdayIntensity = Normalize([0.90, 0.92, 0.95, 1.00, 1.15, 1.20, 0.88]);

    public static readonly string[] WeekdayNames = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    public static readonly string[] RenamedWeekdayNames = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

    // Populations.
    public const int InitialMerchants = 150;
    public const int MerchantsOnboardedPerBatch = 6;

    /// <summary>Zipf exponent of merchant popularity: a few large merchants, a long tail.</summary>
    public const double MerchantZipfExponent = 1.0;

    public const int InitialCities = 300;

    /// <summary>A new city appears every this many batches.</summary>
    public const int BatchesPerNewCity = 3;

    public const double CityZipfExponent = 1.1;

    // Amount: log-normal around a per-merchant typical amount.
    public const double MerchantLogAmountMean = 3.6;
    public const double MerchantLogAmountSpread = 0.7;
    public const double AmountLogNoise = 0.6;

    /// <summary>Price inflation per day (log scale): about 2 % over the three months.</summary>
    public const double InflationPerDay = 0.0002;

    // Device mix: web share falls as the app is adopted; the rest splits between iOS and Android.
    public const double InitialWebShare = 0.55;
    public const double FinalWebShare = 0.30;
    public const double IosShareOfApp = 0.45;

    /// <summary>Share of rows whose optional <c>device</c> cell is empty (constant over time).</summary>
    public const double DeviceMissingShare = 0.01;

    // Label model (log-odds).
    public const double BaseLogit = -2.3;
    public const double MerchantRiskSd = 0.9;

    /// <summary>New merchants are a little riskier on average than the established ones.</summary>
    public const double NewMerchantRiskShift = 0.3;

    /// <summary>Share of merchants whose risk changes once during the stream (mild concept drift).</summary>
    public const double DriftingMerchantShare = 0.2;

    /// <summary>Batches over which a drifting merchant's risk moves from its old to its new value.</summary>
    public const int DriftTransitionBatches = 4;

    public const double CityRiskSd = 0.5;
    public const double NightEffect = 1.0;
    public const double WeekendEffect = 0.25;
    public const double WebEffect = 0.45;

    /// <summary>Effect per unit of log amount above the merchant's usual amount (unusual amounts are risky).</summary>
    public const double UnusualAmountEffect = 0.45;

    /// <summary>Effect per unit of log amount (bigger payments are slightly riskier).</summary>
    public const double AmountEffect = 0.4;

    // Per-batch base-rate swing: a slow seasonal wave plus random regimes, so positive rates move ~12-36 %.
    public const double SeasonalSwing = 0.35;
    public const double SeasonalPeriodBatches = 17;
    public const double RegimeSwing = 0.4;
    public const double RegimeChangeChance = 0.3;
    public const double BatchNoiseSwing = 0.1;

    private static readonly string[] Columns = ["hour", "weekday", "amount", "merchant", "city", "device", Label];

    public static GeneratedStream Generate(StreamOptions options)
    {
        // The mean effect on the log-odds before a concept change (ConceptChangeBatch only).
        double effectSum = 0;
        long effectRows = 0;
        var random = StreamRandom.For(options.Seed, 1);
        var merchants = new Population(random, MerchantZipfExponent);
        var merchantRisk = new List<MerchantRisk>();
        var merchantLogAmount = new List<double>();
        for (var i = 0; i < InitialMerchants; i++)
        {
            AddMerchant(0);
        }

        var cities = new Population(random, CityZipfExponent);
        var cityRisk = new List<double>();
        for (var i = 0; i < InitialCities; i++)
        {
            cities.Add();
            cityRisk.Add(random.Normal(0, CityRiskSd));
        }

        var batches = new List<StreamBatch>(options.Batches);
        var regime = 0.0;
        var hour = 0;
        var pending = new List<(DateTimeOffset Time, string?[] Row)>();
        for (var b = 0; b < options.Batches; b++)
        {
            if (b > 0)
            {
                for (var i = 0; i < MerchantsOnboardedPerBatch; i++)
                {
                    AddMerchant(b);
                }

                if (b % BatchesPerNewCity == 0)
                {
                    cities.Add();
                    cityRisk.Add(random.Normal(0, CityRiskSd));
                }
            }

            if (b == 0 || random.Chance(RegimeChangeChance))
            {
                regime = ((2 * random.NextDouble()) - 1) * RegimeSwing;
            }

            var offset = BaseLogit + regime + (SeasonalSwing * Math.Sin(2 * Math.PI * b / SeasonalPeriodBatches)) + random.Normal(0, BatchNoiseSwing);
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

                var take = Math.Min(pending.Count, options.RowsPerBatch - rows.Count);
                for (var i = 0; i < take; i++)
                {
                    var (time, row) = pending[i];
                    from ??= time;
                    to = time;
                    rows.Add(Realize(row, time, b, offset, corruption));
                }

                pending.RemoveRange(0, take);
            }

            batches.Add(new StreamBatch(b, from!.Value, to, Columns, rows, corruption));
        }

        return new GeneratedStream(options, Label, "binary", ["hour", "amount"], ["weekday", "merchant", "city", "device"], batches);

        void AddMerchant(int batch)
        {
            merchants.Add();
            var risk = random.Normal(batch == 0 ? 0 : NewMerchantRiskShift, MerchantRiskSd);
            var drifts = random.Chance(DriftingMerchantShare);
            merchantRisk.Add(new MerchantRisk(
                risk,
                drifts ? random.Normal(0, MerchantRiskSd) : risk,
                drifts ? batch + 2 + random.Next(Math.Max(1, options.Batches - batch)) : int.MaxValue));
            merchantLogAmount.Add(random.Normal(MerchantLogAmountMean, MerchantLogAmountSpread));
        }

        // Arrivals of one hour: a Poisson count, uniform times within the hour, kept in order.
        void FillHour(int index)
        {
            var start = Start.AddHours(index);
            var lambda = InitialEventsPerHour * Math.Exp(VolumeGrowthPerDay * index / 24.0)
                * HourlyIntensity[start.Hour] * WeekdayIntensity[((int)start.DayOfWeek + 6) % 7];
            var n = random.Poisson(lambda);
            var seconds = new double[n];
            for (var i = 0; i < n; i++)
            {
                seconds[i] = random.NextDouble() * 3600;
            }

            Array.Sort(seconds);
            foreach (var s in seconds)
            {
                pending.Add((start.AddSeconds(Math.Floor(s)), new string?[Columns.Length]));
            }
        }

        string?[] Realize(string?[] row, DateTimeOffset time, int batch, double offset, Corruption corruption)
        {
            var days = (time - Start).TotalDays;
            var weekday = ((int)time.DayOfWeek + 6) % 7;
            var weekend = weekday >= 5;
            var night = time.Hour < 6;
            var merchant = merchants.Pick(random);
            var city = cities.Pick(random);
            var webShare = InitialWebShare + ((FinalWebShare - InitialWebShare) * Math.Min(1, batch / (double)Math.Max(1, options.Batches - 1)));
            var d = random.NextDouble();
            var device = d < webShare ? "web" : d < webShare + ((1 - webShare) * IosShareOfApp) ? "ios" : "android";

            var typical = merchantLogAmount[merchant] + (InflationPerDay * days) + (night ? -0.2 : time.Hour >= 17 ? 0.15 : 0);
            var logAmount = typical + random.Normal(0, AmountLogNoise);
            var amount = Math.Round(Math.Exp(logAmount), 2);

            var logit = offset
                + merchantRisk[merchant].At(batch)
                + cityRisk[city]
                + (night ? NightEffect : 0)
                + (weekend ? WeekendEffect : 0)
                + (device == "web" ? WebEffect : 0)
                + (UnusualAmountEffect * Math.Max(0, logAmount - typical))
                + (AmountEffect * (logAmount - MerchantLogAmountMean));
            if (options.ConceptChangeBatch is { } change)
            {
                // Concept drift at a known batch: every effect turns around its mean before the change (so the positive
                // rate stays about the same), and the inputs are drawn exactly as before.
                var effects = logit - offset;
                if (batch < change)
                {
                    (effectSum, effectRows) = (effectSum + effects, effectRows + 1);
                }
                else
                {
                    logit = offset + (2 * effectSum / Math.Max(1, effectRows)) - effects;
                }
            }

            var positive = random.NextDouble() < 1 / (1 + Math.Exp(-logit));
            var deviceMissing = random.Chance(DeviceMissingShare);

            if (corruption == Corruption.UnitChange)
            {
                amount *= 100;
            }

            if (corruption == Corruption.LabelFlip)
            {
                positive = !positive;
            }

            row[0] = time.Hour.ToString(CultureInfo.InvariantCulture);
            row[1] = corruption == Corruption.RenamedCategory ? RenamedWeekdayNames[weekday] : WeekdayNames[weekday];
            row[2] = amount.ToString("0.##", CultureInfo.InvariantCulture);
            row[3] = "m" + (merchant + 1).ToString("0000", CultureInfo.InvariantCulture);
            row[4] = "c" + (city + 1).ToString("000", CultureInfo.InvariantCulture);
            row[5] = deviceMissing ? null : device;
            row[6] = positive ? "1" : "0";
            return row;
        }
    }

    private static double[] Normalize(double[] values)
    {
        var mean = values.Average();
        return values.Select(v => v / mean).ToArray();
    }

    private readonly record struct MerchantRisk(double Before, double After, int ChangeBatch)
    {
        public double At(int batch)
        {
            if (batch <= ChangeBatch)
            {
                return Before;
            }

            var progress = Math.Min(1, (batch - ChangeBatch) / (double)DriftTransitionBatches);
            return Before + ((After - Before) * progress);
        }
    }
}

/// <summary>
/// A Zipf-like population that grows: member i of the first ones has weight 1/rank^s for a shuffled rank, and a
/// newcomer gets the weight of a rank drawn uniformly over the current size, so some newcomers become large.
/// </summary>
internal sealed class Population(StreamRandom random, double exponent)
{
    private readonly WeightedPicker _picker = new();

    public int Count => _picker.Count;

    public void Add()
    {
        var rank = 1 + (random.NextDouble() * Math.Max(1, _picker.Count));
        _picker.Add(Math.Pow(rank, -exponent));
    }

    public int Pick(StreamRandom r) => _picker.Pick(r);
}
