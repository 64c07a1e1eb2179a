using Ctm.Testing;

namespace Ctm.EndToEnd.Tests.Faults;

/// <summary>
/// What a fault test counts: uploads or events sent, answered 2xx, decided by the Validator (or stored once, for row
/// events), stored or decided more than once, and answered 2xx but never decided. Each report is appended to
/// <c>.ctm/test-results/reliability.txt</c> for docs/reliability.md.
/// </summary>
public sealed record FaultReport(string Fault, int Sent, int Accepted, int Decided, int Duplicated, int Lost)
{
    public override string ToString() => $"{Fault}: sent {Sent}, 2xx {Accepted}, decided {Decided}, duplicated {Duplicated}, lost {Lost}";

    public void Record()
    {
        var folder = Path.Combine(TestEnvironment.RepositoryRoot, ".ctm", "test-results");
        Directory.CreateDirectory(folder);
        File.AppendAllText(Path.Combine(folder, "reliability.txt"), $"{DateTime.UtcNow:u} {this}\n");
    }
}
