using Ctm.Contracts;
using Ctm.Trainer.Storage;
using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace Ctm.Trainer.Consumers;

/// <summary>
/// Remembers which version serves each dataset: the default parent of the next warm start. A promotion counts once a
/// Predictor replica confirms it loaded the version: a version every replica refused never served, and a child
/// warm-started from it would build on a model no one ever checked in production.
/// </summary>
public sealed class TrackServingVersionConsumer(TrainerDbContext db) : IConsumer<ModelPromoted>, IConsumer<ModelLoaded>
{
    public async Task Consume(ConsumeContext<ModelPromoted> context)
    {
        var m = context.Message;
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO trainer.promotions (dataset, generation, version, run_id, promoted) VALUES ({m.Dataset}, {m.Generation}, {m.Version}, {m.RunId}, true)
            ON CONFLICT (dataset, generation) DO UPDATE SET version = excluded.version, run_id = excluded.run_id, promoted = true
            """, context.CancellationToken);
        await AdvanceAsync(m.Dataset, context.CancellationToken);
    }

    public async Task Consume(ConsumeContext<ModelLoaded> context)
    {
        var m = context.Message;
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO trainer.promotions (dataset, generation, version, loaded) VALUES ({m.Dataset}, {m.Generation}, {m.Version}, true)
            ON CONFLICT (dataset, generation) DO UPDATE SET loaded = true
            """, context.CancellationToken);
        await AdvanceAsync(m.Dataset, context.CancellationToken);
    }

    /// <summary>
    /// Points the dataset at its newest promotion that a replica loaded. Only a newer generation wins, so redelivered
    /// or reordered messages cannot roll the pointer back; both consumers run it, so whichever message comes last moves it.
    /// </summary>
    private Task<int> AdvanceAsync(string dataset, CancellationToken ct) =>
        db.Database.ExecuteSqlAsync($"""
            INSERT INTO trainer.serving (dataset, version, generation, run_id)
            SELECT dataset, version, generation, run_id FROM trainer.promotions
            WHERE dataset = {dataset} AND promoted AND loaded
            ORDER BY generation DESC LIMIT 1
            ON CONFLICT (dataset) DO UPDATE SET version = excluded.version, generation = excluded.generation, run_id = excluded.run_id
            WHERE trainer.serving.generation < excluded.generation
            """, ct);
}
