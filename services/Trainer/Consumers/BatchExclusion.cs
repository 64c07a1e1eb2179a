using Ctm.Trainer.Storage;
using Microsoft.EntityFrameworkCore;

namespace Ctm.Trainer.Consumers;

/// <summary>Marks a batch never to be trained on again.</summary>
public static class BatchExclusion
{
    /// <summary>
    /// Excludes the batch. A final exclusion (discarded, corrupt) also leaves a tombstone, so a batch the Trainer has
    /// not heard of yet is excluded when it arrives, and a later release cannot bring it back.
    /// Idempotent by nature: excluding twice is one effect.
    /// </summary>
    public static async Task ExcludeAsync(TrainerDbContext db, Guid batchId, string dataset, string reason, bool final, DateTimeOffset at, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        if (final)
        {
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO trainer.excluded_batches (batch_id, dataset, reason, excluded_at) VALUES ({batchId}, {dataset}, {reason}, {at})
                ON CONFLICT (batch_id) DO NOTHING
                """, ct);
        }

        await db.Batches.Where(b => b.BatchId == batchId)
            .ExecuteUpdateAsync(s => s.SetProperty(b => b.Excluded, true).SetProperty(b => b.ExcludedReason, reason), ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>The reason a batch was excluded for good, or null.</summary>
    public static Task<string?> FinalReasonAsync(TrainerDbContext db, Guid batchId, CancellationToken ct) =>
        db.Database.SqlQuery<string>($"SELECT reason AS \"Value\" FROM trainer.excluded_batches WHERE batch_id = {batchId}").SingleOrDefaultAsync(ct);
}
