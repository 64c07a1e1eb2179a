using System.Collections.Concurrent;

namespace Ctm.Predictor.Models;

/// <summary>Which role a model answered a request in.</summary>
public enum ServingRole
{
    Primary,
    Canary,
    Shadow,
}

/// <summary>A version that could not be loaded; the one serving before stays.</summary>
public sealed record LoadFailure(int Version, long Generation, string Kind, string Reason, DateTimeOffset At);

/// <summary>What one dataset serves: the promoted version, an optional canary (with its share) and an optional shadow.</summary>
public sealed class DatasetSlot(string dataset)
{
    public string Dataset { get; } = dataset;
    public LoadedModel? Primary { get; internal set; }
    public LoadedModel? Canary { get; internal set; }
    public double CanaryShare { get; internal set; }
    public LoadedModel? Shadow { get; internal set; }
    public LoadFailure? LastFailure { get; internal set; }

    /// <summary>Generation of the last promotion installed (kept while a resource-preserving swap has no primary).</summary>
    public long Generation { get; internal set; }

    /// <summary>Set while the primary is unloaded before its successor loads; requests wait on it.</summary>
    internal TaskCompletionSource? Gap { get; set; }
}

/// <summary>The models serving each dataset. Swaps are atomic; a promotion never goes back in generation.</summary>
public sealed class ModelCatalog
{
    private readonly ConcurrentDictionary<string, DatasetSlot> _slots = new(StringComparer.Ordinal);
    private readonly Lock _swapLock = new();

    /// <summary>Set once the versions serving at start-up have been loaded.</summary>
    public bool InitialLoadCompleted { get; set; }

    public IReadOnlyCollection<DatasetSlot> Slots => [.. _slots.Values];

    public IReadOnlyCollection<LoadedModel> All => [.. _slots.Values.Select(s => s.Primary).OfType<LoadedModel>()];

    public DatasetSlot? Find(string dataset) => _slots.TryGetValue(dataset, out var slot) ? slot : null;

    public long GenerationOf(string dataset) => Find(dataset)?.Generation ?? 0;

    /// <summary>
    /// A lease on the model that should answer: the pinned <paramref name="version"/> if given (primary, canary or shadow),
    /// else the canary for its share of requests, else the primary; null when there is none. Dispose the lease when done.
    /// </summary>
    public ModelLease? Acquire(string dataset, int? version)
    {
        if (!_slots.TryGetValue(dataset, out var slot))
        {
            return null;
        }

        // Retry covers the instant between reading a model and it being swapped out and released.
        for (var attempt = 0; attempt < 16; attempt++)
        {
            LoadedModel? model;
            ServingRole role;
            if (version is { } v)
            {
                (model, role) = slot.Primary is { } p && p.Version == v ? (p, ServingRole.Primary)
                    : slot.Canary is { } c && c.Version == v ? (c, ServingRole.Canary)
                    : slot.Shadow is { } s && s.Version == v ? (s, ServingRole.Shadow)
                    : ((LoadedModel?)null, ServingRole.Primary);
            }
            else if (slot.Canary is { } canary && slot.CanaryShare > 0 && Random.Shared.NextDouble() < slot.CanaryShare)
            {
                (model, role) = (canary, ServingRole.Canary);
            }
            else
            {
                (model, role) = (slot.Primary, ServingRole.Primary);
            }

            if (model is null)
            {
                return null;
            }

            if (model.TryAddReference())
            {
                return new ModelLease(model, role);
            }
        }

        return null;
    }

    /// <summary>Like <see cref="Acquire"/>, but while a resource-preserving swap has no primary, waits for the next one (bounded).</summary>
    public async ValueTask<ModelLease?> AcquireAsync(string dataset, int? version, TimeSpan gapWait, CancellationToken ct)
    {
        var lease = Acquire(dataset, version);
        if (lease is not null || version is not null || Find(dataset)?.Gap is not { } gap)
        {
            return lease;
        }

        try
        {
            await gap.Task.WaitAsync(gapWait, ct);
        }
        catch (TimeoutException)
        {
            return null;
        }

        return Acquire(dataset, version);
    }

    /// <summary>A lease on the shadow version of <paramref name="dataset"/>, if there is one.</summary>
    public ModelLease? AcquireShadow(string dataset)
    {
        for (var attempt = 0; attempt < 16; attempt++)
        {
            if (Find(dataset)?.Shadow is not { } shadow)
            {
                return null;
            }

            if (shadow.TryAddReference())
            {
                return new ModelLease(shadow, ServingRole.Shadow);
            }
        }

        return null;
    }

    /// <summary>Installs <paramref name="model"/> as the primary if its generation is newer; returns whether it did.</summary>
    public bool TrySwap(LoadedModel model)
    {
        LoadedModel? old;
        TaskCompletionSource? gap;
        lock (_swapLock)
        {
            var slot = _slots.GetOrAdd(model.Dataset, d => new DatasetSlot(d));
            if (slot.Generation >= model.Generation && slot.Primary is not null)
            {
                return false;
            }

            old = slot.Primary;
            model.LoadedAt = DateTimeOffset.UtcNow;
            slot.Primary = model;
            slot.Generation = model.Generation;
            gap = slot.Gap;
            slot.Gap = null;
        }

        gap?.TrySetResult();
        old?.DropReference();
        return true;
    }

    /// <summary>
    /// Resource-preserving swap, first half: takes the primary out (requests now wait for the next one) and returns it;
    /// the caller awaits <see cref="LoadedModel.Released"/> before loading the successor.
    /// </summary>
    public LoadedModel? Unload(string dataset)
    {
        LoadedModel? old;
        lock (_swapLock)
        {
            if (!_slots.TryGetValue(dataset, out var slot) || slot.Primary is null)
            {
                return null;
            }

            old = slot.Primary;
            slot.Primary = null;
            slot.Gap ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        old.DropReference();
        return old;
    }

    /// <summary>Ends a gap that no successor filled (the requests waiting then find no model).</summary>
    public void EndGap(string dataset)
    {
        TaskCompletionSource? gap;
        lock (_swapLock)
        {
            gap = Find(dataset)?.Gap;
            if (Find(dataset) is { } slot)
            {
                slot.Gap = null;
            }
        }

        gap?.TrySetResult();
    }

    /// <summary>Sets (or with null clears) the canary of <paramref name="dataset"/>.</summary>
    public void SetCanary(string dataset, LoadedModel? model, double share)
    {
        LoadedModel? old;
        lock (_swapLock)
        {
            var slot = _slots.GetOrAdd(dataset, d => new DatasetSlot(d));
            old = slot.Canary;
            slot.Canary = model;
            slot.CanaryShare = model is null ? 0 : share;
        }

        old?.DropReference();
    }

    /// <summary>Sets (or with null clears) the shadow of <paramref name="dataset"/>.</summary>
    public void SetShadow(string dataset, LoadedModel? model)
    {
        LoadedModel? old;
        lock (_swapLock)
        {
            var slot = _slots.GetOrAdd(dataset, d => new DatasetSlot(d));
            old = slot.Shadow;
            slot.Shadow = model;
        }

        old?.DropReference();
    }

    public void RecordFailure(string dataset, LoadFailure failure) =>
        _slots.GetOrAdd(dataset, d => new DatasetSlot(d)).LastFailure = failure;
}
