using System.Collections.Concurrent;

namespace Ctm.Predictor.Models;

/// <summary>The model serving each dataset. Swaps are atomic; a swap never goes back in generation.</summary>
public sealed class ModelCatalog
{
    private readonly ConcurrentDictionary<string, LoadedModel> _models = new(StringComparer.Ordinal);
    private readonly Lock _swapLock = new();

    /// <summary>Set once the versions serving at start-up have been loaded.</summary>
    public bool InitialLoadCompleted { get; set; }

    public IReadOnlyCollection<LoadedModel> All => [.. _models.Values];

    public long GenerationOf(string dataset) => _models.TryGetValue(dataset, out var m) ? m.Generation : 0;

    /// <summary>A lease on the serving model of <paramref name="dataset"/>; the caller must <see cref="LoadedModel.Release"/> it.</summary>
    public LoadedModel? Acquire(string dataset)
    {
        // Retry covers the instant between reading a model and it being swapped out and released.
        for (var attempt = 0; attempt < 8; attempt++)
        {
            if (!_models.TryGetValue(dataset, out var model))
            {
                return null;
            }

            if (model.TryAcquire())
            {
                return model;
            }
        }

        return null;
    }

    /// <summary>Installs <paramref name="model"/> if its generation is newer than the serving one; returns whether it did.</summary>
    public bool TrySwap(LoadedModel model)
    {
        LoadedModel? old;
        lock (_swapLock)
        {
            _models.TryGetValue(model.Dataset, out old);
            if (old is not null && old.Generation >= model.Generation)
            {
                return false;
            }

            _models[model.Dataset] = model;
        }

        old?.Release();
        return true;
    }
}
