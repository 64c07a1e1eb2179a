using System.Globalization;
using System.Text;

namespace Ctm.Validator.Tests;

/// <summary>A churn-like dataset from a fixed seed, with the faults the tests need switched on one at a time.</summary>
public sealed record ChurnCsv
{
    public int Rows { get; init; } = 300;
    public int Seed { get; init; } = 1;

    /// <summary>Fraction of rows whose plan is "enterprise", a value the first batch never had.</summary>
    public double NewPlanFraction { get; init; }

    /// <summary>Range the monthly fee is drawn from.</summary>
    public (double Low, double High) Fee { get; init; } = (10, 100);

    /// <summary>Renames tenure to tenure_months (a schema break: missing and unexpected columns).</summary>
    public bool RenameTenure { get; init; }

    /// <summary>Leaves the label column out (serving inputs).</summary>
    public bool WithoutLabel { get; init; }

    public override string ToString()
    {
        var random = new Random(Seed);
        var plans = new[] { "basic", "pro", "team" };
        var csv = new StringBuilder(RenameTenure ? "tenure_months" : "tenure").Append(",plan,monthly_fee,support_calls").Append(WithoutLabel ? "\n" : ",churned\n");
        for (var i = 0; i < Rows; i++)
        {
            var tenure = random.Next(1, 60);
            var plan = random.NextDouble() < NewPlanFraction ? "enterprise" : plans[random.Next(plans.Length)];
            var fee = Math.Round(Fee.Low + (random.NextDouble() * (Fee.High - Fee.Low)), 2);
            var calls = random.Next(0, 8);
            var risk = (calls * 0.5) - (tenure * 0.06) + (plan == "basic" ? 0.8 : 0) + (fee > 70 ? 0.7 : 0);
            var churned = risk + ((random.NextDouble() - 0.5) * 0.8) > 0.3 ? "yes" : "no";
            csv.Append(CultureInfo.InvariantCulture, $"{tenure},{plan},{fee},{calls}");
            csv.Append(WithoutLabel ? "\n" : $",{churned}\n");
        }

        return csv.ToString();
    }
}
