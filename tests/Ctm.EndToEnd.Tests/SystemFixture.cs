using Ctm.Testing;

namespace Ctm.EndToEnd.Tests;

/// <summary>The five services, started once for the test class.</summary>
public sealed class SystemFixture : CtmSystem, IAsyncLifetime
{
}
