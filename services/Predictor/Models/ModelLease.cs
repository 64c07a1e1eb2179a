namespace Ctm.Predictor.Models;

/// <summary>
/// A request's hold on a loaded version, from <see cref="ModelCatalog.Acquire"/>: while any lease is held, a version
/// that has been swapped out keeps its session and micro-batcher, so a request finishes on the version it started
/// with. Disposing ends the hold (once, however often it is called); take it with <c>using</c>.
/// </summary>
public sealed class ModelLease : IDisposable
{
    private LoadedModel? _held;

    internal ModelLease(LoadedModel model, ServingRole role)
    {
        Model = model;
        Role = role;
        _held = model;
    }

    /// <summary>The version that answers.</summary>
    public LoadedModel Model { get; }

    /// <summary>The place it was chosen for: the promoted version, the canary, or the shadow.</summary>
    public ServingRole Role { get; }

    /// <summary>Ends the hold; the version's session is released when it was retired and this was its last holder.</summary>
    public void Dispose() => Interlocked.Exchange(ref _held, null)?.DropReference();
}
