using System.Globalization;
using System.Text;

namespace Ctm.Testing;

/// <summary>A small churn-like dataset with a nonlinear label, generated from a fixed seed.</summary>
public static class ChurnData
{
    public static string Csv(int rows, int seed, bool wrongSchema = false)
    {
        var random = new Random(seed);
        var plans = new[] { "basic", "pro", "team" };
        var csv = new StringBuilder(wrongSchema ? "tenure_months,plan,monthly_fee,support_calls,churned\n" : "tenure,plan,monthly_fee,support_calls,churned\n");
        for (var i = 0; i < rows; i++)
        {
            var tenure = random.Next(1, 60);
            var plan = plans[random.Next(plans.Length)];
            var fee = Math.Round(10 + (random.NextDouble() * 90), 2);
            var calls = random.Next(0, 8);
            var risk = (calls * 0.5) - (tenure * 0.06) + (plan == "basic" ? 0.8 : 0) + (fee > 70 ? 0.7 : 0);
            var churned = risk + ((random.NextDouble() - 0.5) * 0.8) > 0.3 ? "yes" : "no";
            var feeText = wrongSchema && i % 3 == 0 ? "n/a" : fee.ToString(CultureInfo.InvariantCulture);
            csv.Append(CultureInfo.InvariantCulture, $"{tenure},{plan},{feeText},{calls},{churned}\n");
        }

        return csv.ToString();
    }
}
