using System.Text.Json;
using Ctm.Contracts;
using Ctm.ServiceDefaults.Storage;
using Ctm.Validator.Storage;
using Microsoft.EntityFrameworkCore;

namespace Ctm.Validator.Validation;

/// <summary>Decides a batch: accept, or quarantine with every reason. One decision per batch, whatever the redeliveries.</summary>
public sealed partial class BatchValidation(ValidatorDbContext db, BatchFetcher fetcher, OutboxSignal signal, TimeProvider clock, ILogger<BatchValidation> logger)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task ValidateAsync(BatchIngested message, CancellationToken ct)
    {
        if (await db.Batches.AnyAsync(b => b.BatchId == message.BatchId, ct))
        {
            LogDuplicate(message.BatchId);
            return;
        }

        // Fetch outside the transaction: no locks are held while the network is slow.
        var batch = await fetcher.FetchAsync(message.Location, message.Sha256, ct);

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // Serialize decisions per dataset, so that two first batches cannot both fix the schema.
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtext({"validator:" + message.Dataset}))", ct);
        if (!await db.TryMarkProcessedAsync("validate-batch", message.BatchId.ToString(), ct))
        {
            LogDuplicate(message.BatchId);
            return;
        }

        var now = clock.GetUtcNow();
        var current = await db.Schemas.Where(s => s.Dataset == message.Dataset).OrderByDescending(s => s.Version).FirstOrDefaultAsync(ct);
        DatasetSchema schema;
        int version;
        var reasons = new List<Anomaly>();
        if (current is null)
        {
            var config = await db.Datasets.FindAsync([message.Dataset], ct);
            schema = DatasetSchema.Infer(batch, config?.LabelColumn, config?.Task, out var problem);
            if (problem is not null)
            {
                reasons.Add(new Anomaly { Feature = schema.Label, Kind = "missing-column", Description = problem });
                version = 0;
            }
            else
            {
                version = 1;
                db.Schemas.Add(new SchemaVersion
                {
                    Dataset = message.Dataset,
                    Version = version,
                    Definition = JsonSerializer.Serialize(schema, Json),
                    Reason = $"inferred from batch {message.BatchId}",
                    CreatedAt = now,
                });
            }
        }
        else
        {
            schema = JsonSerializer.Deserialize<DatasetSchema>(current.Definition, Json)!;
            version = current.Version;
            reasons.AddRange(schema.Check(batch));
        }

        var accepted = reasons.Count == 0;
        db.Batches.Add(new BatchDecision
        {
            BatchId = message.BatchId,
            Dataset = message.Dataset,
            Status = accepted ? "accepted" : "quarantined",
            SchemaVersion = version == 0 ? null : version,
            RowCount = message.RowCount,
            Sha256 = message.Sha256,
            Location = message.Location,
            CorrelationId = message.CorrelationId,
            Reasons = JsonSerializer.Serialize(reasons, Json),
            DecidedAt = now,
        });
        await db.SaveChangesAsync(ct);

        if (accepted)
        {
            await db.EnqueueAsync(Accepted(message, schema, version, now), message.CorrelationId, ct);
            LogAccepted(message.BatchId, message.Dataset, version);
        }
        else
        {
            await db.EnqueueAsync(new BatchQuarantined
            {
                BatchId = message.BatchId,
                Dataset = message.Dataset,
                CorrelationId = message.CorrelationId,
                Reasons = reasons,
                SchemaVersion = version == 0 ? null : version,
                QuarantinedAt = now,
            }, message.CorrelationId, ct);
            LogQuarantined(message.BatchId, message.Dataset, string.Join(" ", reasons.Select(r => r.Description)));
        }

        await tx.CommitAsync(ct);
        signal.Notify();
    }

    public static BatchAccepted Accepted(BatchIngested message, DatasetSchema schema, int version, DateTimeOffset now) => new()
    {
        BatchId = message.BatchId,
        Dataset = message.Dataset,
        CorrelationId = message.CorrelationId,
        RowCount = message.RowCount,
        Sha256 = message.Sha256,
        Location = message.Location,
        SchemaVersion = version,
        Features = schema.Features,
        LabelColumn = schema.Label,
        Task = schema.Task,
        AcceptedAt = now,
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId} was already decided; redelivery ignored")]
    private partial void LogDuplicate(Guid batchId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Accepted batch {BatchId} of {Dataset} (schema v{Version})")]
    private partial void LogAccepted(Guid batchId, string dataset, int version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Quarantined batch {BatchId} of {Dataset}: {Reasons}")]
    private partial void LogQuarantined(Guid batchId, string dataset, string reasons);
}
