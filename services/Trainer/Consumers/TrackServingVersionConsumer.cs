using Ctm.Contracts;
using Ctm.Trainer.Storage;
using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace Ctm.Trainer.Consumers;

/// <summary>Remembers which version serves each dataset: the default parent of the next warm start.</summary>
public sealed class TrackServingVersionConsumer(TrainerDbContext db) : IConsumer<ModelPromoted>
{
    public async Task Consume(ConsumeContext<ModelPromoted> context)
    {
        var m = context.Message;
        // Only a newer generation wins, so redelivered or reordered promotions cannot roll the pointer back.
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO trainer.serving (dataset, version, generation, run_id) VALUES ({m.Dataset}, {m.Version}, {m.Generation}, {m.RunId})
            ON CONFLICT (dataset) DO UPDATE SET version = excluded.version, generation = excluded.generation, run_id = excluded.run_id
            WHERE trainer.serving.generation < excluded.generation
            """, context.CancellationToken);
    }
}
