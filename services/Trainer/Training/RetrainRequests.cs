using Ctm.ServiceDefaults.Storage;
using Ctm.ServiceDefaults.Telemetry;
using Ctm.Trainer.Storage;
using Microsoft.EntityFrameworkCore;

namespace Ctm.Trainer.Training;

/// <summary>Retrain requests, from the bus or the HTTP API, become jobs; the request id keeps a repeated request to one job.</summary>
public static class RetrainRequests
{
    /// <returns>The job recorded for the request (the existing one for a repeated request).</returns>
    public static async Task<TrainingJob> RecordAsync(
        TrainerDbContext db, Guid requestId, string dataset, int? fromVersion, bool fullRetrain, string requestedBy, Guid correlationId, DateTimeOffset now, CancellationToken ct)
    {
        var key = $"retrain:{requestId}";
        var job = new TrainingJob
        {
            Id = MassTransit.NewId.NextGuid(),
            Dataset = dataset,
            TriggerKey = key,
            Reason = $"requested by {requestedBy}",
            CorrelationId = correlationId,
            FromVersion = fromVersion,
            FullRetrain = fullRetrain,
            Status = JobStatus.Pending,
            CreatedAt = now,
            TraceParent = CtmTelemetry.CurrentTraceParent(),
        };
        var inserted = await db.Database.ExecuteSqlAsync($"""
            INSERT INTO trainer.jobs (id, dataset, trigger_key, reason, correlation_id, from_version, full_retrain, status, attempts, created_at, trace_parent)
            VALUES ({job.Id}, {dataset}, {key}, {job.Reason}, {correlationId}, {fromVersion}, {fullRetrain}, {EnumText<JobStatus>.Name(JobStatus.Pending)}, 0, {now}, {job.TraceParent})
            ON CONFLICT (trigger_key) DO NOTHING
            """, ct);
        return inserted == 1 ? job : await db.Jobs.AsNoTracking().SingleAsync(j => j.TriggerKey == key, ct);
    }
}
