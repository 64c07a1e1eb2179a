using Ctm.Contracts;
using Ctm.Trainer.Storage;
using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace Ctm.Trainer.Consumers;

/// <summary>A batch quarantined after it was accepted (an operator's action) is never trained on again.</summary>
public sealed class ExcludeQuarantinedBatchConsumer(TrainerDbContext db) : IConsumer<BatchQuarantined>
{
    public async Task Consume(ConsumeContext<BatchQuarantined> context)
    {
        var reason = $"quarantined: {string.Join(" ", context.Message.Reasons.Select(r => r.Description))}";
        // Idempotent by nature: setting the flag twice is one effect.
        await db.Batches.Where(b => b.BatchId == context.Message.BatchId)
            .ExecuteUpdateAsync(s => s.SetProperty(b => b.Excluded, true).SetProperty(b => b.ExcludedReason, reason), context.CancellationToken);
    }
}
