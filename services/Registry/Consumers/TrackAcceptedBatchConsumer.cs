using System.Text.Json;
using Ctm.Contracts;
using Ctm.Registry.Lineage;
using Ctm.ServiceDefaults.Storage;
using Ctm.Registry.Storage;
using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace Ctm.Registry.Consumers;

/// <summary>Records the acceptance (or release) and keeps the dataset's newest schema: what uploaded models are mapped onto.</summary>
public sealed class TrackAcceptedBatchConsumer(BatchTracker batches, RegistryDbContext db) : IConsumer<BatchAccepted>
{
    public async Task Consume(ConsumeContext<BatchAccepted> context)
    {
        var m = context.Message;
        var ct = context.CancellationToken;
        await batches.RecordAsync(m.Dataset, m.BatchId, m.Released ? "released" : "accepted", m.AcceptedAt, null, new { m.SchemaVersion },
            new BatchFacts(m.RowCount, m.Sha256, m.Location, m.SchemaVersion), ct);
        var features = JsonSerializer.Serialize(m.Features, JsonSerializerOptions.Web);
        await db.Database.ExecuteSqlAsync($"""
            UPDATE registry.datasets SET schema_version = {m.SchemaVersion}, features = {features}::jsonb, label_column = {m.LabelColumn}, task = {EnumText<TaskKind>.Name(m.Task)}
            WHERE name = {m.Dataset} AND (schema_version IS NULL OR schema_version <= {m.SchemaVersion})
            """, ct);
    }
}
