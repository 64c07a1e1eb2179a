using Ctm.Testing;

namespace Ctm.Validator.Tests;

/// <summary>The five services, started once for the test class; short training so flows reach the Registry quickly.</summary>
public sealed class ValidatorFixture : CtmSystem, IAsyncLifetime
{
    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Training__Epochs"] = "10",
        ["Ingest__RowEvents__MaxDelaySeconds"] = "1",
    };
}
