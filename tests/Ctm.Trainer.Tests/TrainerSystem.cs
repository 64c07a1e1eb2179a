using Ctm.Testing;

namespace Ctm.Trainer.Tests;

/// <summary>The five services for the Trainer's tests, with short runs unless a dataset's policy asks for more epochs.</summary>
public sealed class TrainerSystem : CtmSystem, IAsyncLifetime
{
    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Training__Epochs"] = "5",
        ["Ingest__RowEvents__MaxDelaySeconds"] = "1",
    };
}
