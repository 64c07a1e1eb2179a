using Ctm.Testing;

namespace Ctm.Console.Tests;

/// <summary>The five services for the console tests, started once for the class, and the history the tests share.</summary>
public sealed class ConsoleSystem : CtmSystem, IAsyncLifetime
{
    public SemaphoreSlim ScenarioLock { get; } = new(1, 1);

    /// <summary>Built once by the first test that needs it (tests share the system, so they share its data).</summary>
    public ConsoleScenario? Scenario { get; set; }
}

/// <summary>Two good batches of <see cref="Dataset"/> that trained the serving version, and a bad one in quarantine.</summary>
public sealed record ConsoleScenario(string Dataset, Guid Good1, Guid Good2, Guid Bad, int ServingVersion);
