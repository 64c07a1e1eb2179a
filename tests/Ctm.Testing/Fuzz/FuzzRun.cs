using System.Text;

namespace Ctm.Testing.Fuzz;

/// <summary>
/// Runs a fuzz target over generated inputs on a thread of its own and collects what went wrong: a crash (an
/// exception the target does not declare as a refusal), a verdict that breaks the target's own invariants, or a
/// hang (the run not finishing within a deadline that is hundreds of times what it needs, naming the input it was on).
/// Each failure keeps its input as base64, so it can be replayed.
/// </summary>
public sealed class FuzzRun
{
    private readonly List<string> _failures = [];
    private volatile int _current = -1;

    /// <summary>Inputs the target accepted.</summary>
    public int Accepted { get; private set; }

    /// <summary>Inputs the target refused with a reason.</summary>
    public int Refused { get; private set; }

    /// <summary>The distinct reasons given for refusals, with how often each was given (first words of the message).</summary>
    public Dictionary<string, int> Reasons { get; } = new(StringComparer.Ordinal);

    /// <summary>What went wrong, one line per failing input (at most 20 kept).</summary>
    public IReadOnlyList<string> Failures => _failures;

    /// <summary>How many inputs failed.</summary>
    public int FailureCount { get; private set; }

    /// <summary>
    /// Feeds <paramref name="count"/> inputs from <paramref name="next"/> to <paramref name="target"/>, which returns
    /// null when it accepted the input, the reason when it refused it, and throws when it crashed or broke an invariant.
    /// </summary>
    public FuzzRun Run(int count, Func<int, byte[]> next, Func<byte[], string?> target, TimeSpan hangDeadline)
    {
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(target);
        byte[] input = [];
        var thread = new Thread(
            () =>
        {
            for (var i = 0; i < count; i++)
            {
                input = next(i);
                _current = i;
                try
                {
                    var reason = target(input);
                    if (reason is null)
                    {
                        Accepted++;
                    }
                    else
                    {
                        Refused++;
                        var key = Summary(reason);
                        Reasons[key] = Reasons.GetValueOrDefault(key) + 1;
                    }
                }
#pragma warning disable CA1031 // a fuzz harness records every crash, whatever its type, with the input that caused it
                catch (Exception e)
#pragma warning restore CA1031
                {
                    FailureCount++;
                    if (_failures.Count < 20)
                    {
                        _failures.Add($"input {i} (base64 {Convert.ToBase64String(input)}): {e.GetType().Name}: {e.Message} at {e.StackTrace?.Split('\n').FirstOrDefault()?.Trim()}");
                    }
                }
            }

            _current = count;
        },
            maxStackSize: 16 * 1024 * 1024)
        { IsBackground = true, Name = "fuzz" };
        thread.Start();
        if (!thread.Join(hangDeadline))
        {
            var at = _current;
            FailureCount++;
            _failures.Add($"hang: input {at} did not finish within {hangDeadline} (base64 {Convert.ToBase64String(input)})");
        }

        return this;
    }

    /// <summary>A report of the run for the test output.</summary>
    public string Report(string name)
    {
        var text = new StringBuilder($"{name}: {Accepted + Refused + FailureCount} inputs, {Accepted} accepted, {Refused} refused with a reason, {FailureCount} failed");
        foreach (var (reason, n) in Reasons.OrderByDescending(r => r.Value).Take(12))
        {
            text.Append($"\n  {n,7} × {reason}");
        }

        foreach (var failure in _failures)
        {
            text.Append("\n  FAILED ").Append(failure);
        }

        return text.ToString();
    }

    // Refusal messages carry positions and values; the first few words say which reason it was.
    private static string Summary(string reason)
    {
        var words = reason.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var kept = words.Take(5).Select(w => w.Any(char.IsDigit) || w.Contains('\'', StringComparison.Ordinal) ? "…" : w);
        return string.Join(' ', kept);
    }
}
