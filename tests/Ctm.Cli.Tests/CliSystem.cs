using Ctm.Testing;

namespace Ctm.Cli.Tests;

/// <summary>The five services for the CLI tests, started once for the class.</summary>
public sealed class CliSystem : CtmSystem, IAsyncLifetime
{
    public SemaphoreSlim ScenarioLock { get; } = new(1, 1);

    /// <summary>The class's shared history (tests share the system, so they share its data), built once by <see cref="CliTests"/>.</summary>
    public Scenario? Scenario { get; set; }
}

/// <summary>Two good batches and a bad one of <see cref="Dataset"/>, ingested through the CLI, and a version serving.</summary>
public sealed record Scenario(string Dataset, Guid Good1, Guid Good2, Guid Bad);
