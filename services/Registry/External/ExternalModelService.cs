using System.Security.Cryptography;
using Ctm.Contracts;
using Ctm.Onnx;
using Ctm.Registry.Models;
using Ctm.Registry.Policies;
using Ctm.Registry.Storage;
using Ctm.ServiceDefaults.Storage;
using Microsoft.EntityFrameworkCore;

namespace Ctm.Registry.External;

/// <summary>An operator's upload of a model trained elsewhere.</summary>
public sealed record ExternalUpload(string Dataset, byte[] Model, IReadOnlyDictionary<string, string> InputMapping, string Operator, string? Source, string? Description, string? FileName);

public sealed record UploadResult(bool Ok, bool Created, ActionStatus Status, string Message, int? Version = null, string? Sha256 = null, VerdictDecision? Decision = null, IReadOnlyDictionary<string, string>? InputMapping = null);

/// <summary>
/// Registers an uploaded ONNX model as a version: validated by loading it with ONNX Runtime (and, where the name has a
/// data stream, by mapping its inputs onto the dataset's features), with lineage marked external, then put through the
/// name's promotion policy. A name with no data stream takes any model ONNX Runtime serves: no schema, no training, no skew.
/// </summary>
public sealed partial class ExternalModelService(
    RegistryDbContext db,
    ModelRegistration registration,
    OutboxSignal signal,
    TimeProvider clock,
    ILogger<ExternalModelService> logger)
{
    public async Task<UploadResult> UploadAsync(ExternalUpload upload, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(upload.Operator))
        {
            return await RefuseAsync(upload, ActionStatus.Invalid, "operator is required (who uploads the model)", ct);
        }

        if (upload.Model.Length == 0)
        {
            return await RefuseAsync(upload, ActionStatus.Invalid, "the model file is empty", ct);
        }

        var dataset = await db.Datasets.AsNoTracking().SingleOrDefaultAsync(d => d.Name == upload.Dataset, ct);
        var features = dataset?.Features?.Select(c => new FeatureInfo(c.Name, c.Kind)).ToList();
        if (features is null && upload.InputMapping.Count > 0)
        {
            return await RefuseAsync(upload, ActionStatus.Conflict, $"'{upload.Dataset}' has no data stream (no accepted batch, so no schema) to map the model's inputs onto; upload it without an input mapping to serve it on its own", ct);
        }

        string producer;
        IReadOnlyDictionary<string, string> mapping;
        try
        {
            // The Predictor's own loader and warm-up: a model a replica would refuse is refused here, with ONNX Runtime's reason.
            using var session = OnnxServingLoader.Load(upload.Model, new OnnxSessionOptions { IntraOpThreads = 1 });
            if (features is null || (upload.InputMapping.Count == 0 && OnnxServingLoader.RowBatchingProblem(session.Inputs, session.Outputs) is not null))
            {
                // No data stream, or (with no mapping asked for) inputs that are not rows: served on its own tensors,
                // nothing to compare its inputs with. An explicit mapping of such a model is still judged, and refused, below.
                mapping = new Dictionary<string, string>();
            }
            else
            {
                var (resolved, error) = InputMapping.Resolve(
                    session.Inputs, session.Outputs, InputMapping.WithNamedColumns(upload.InputMapping, session.Metadata), features);
                if (error is not null)
                {
                    return await RefuseAsync(upload, ActionStatus.Invalid, error, ct);
                }

                mapping = resolved!;
            }

            producer = session.Description.ProducerName is { Length: > 0 } p ? p : "unknown";
        }
        catch (OnnxModelRefusedException e)
        {
            return await RefuseAsync(upload, ActionStatus.Invalid, e.Stage == "load" ? $"not a valid ONNX model: {e.Message}" : $"the model cannot be served: {e.Message}", ct);
        }

        var sha256 = Convert.ToHexStringLower(SHA256.HashData(upload.Model));
        var renames = mapping.Any(m => m.Key != m.Value);
        UploadResult result;
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            await registration.LockDatasetAsync(upload.Dataset, ct);
            var existing = await db.Versions.AsNoTracking().Where(v => v.Dataset == upload.Dataset && v.Origin == "external" && v.Sha256 == sha256).Select(v => (int?)v.Version).FirstOrDefaultAsync(ct);
            if (existing is { } same)
            {
                return new UploadResult(true, false, ActionStatus.Exists, $"this model (SHA-256 {sha256}) is already v{same}", same, sha256, null, mapping);
            }

            var now = clock.GetUtcNow();
            var version = await registration.NextVersionAsync(upload.Dataset, ct);
            db.Versions.Add(new ModelVersion
            {
                Dataset = upload.Dataset,
                Version = version,
                SchemaVersion = dataset?.SchemaVersion,
                Task = dataset?.Task is { } task ? EnumText<TaskKind>.Name(task) : "unknown",
                Artifact = upload.Model,
                Sha256 = sha256,
                Size = upload.Model.LongLength,
                Metrics = [],
                Parameters = new() { ["producer"] = producer, ["dataStream"] = features is null ? "none" : "dataset" },
                Engine = producer,
                Device = "external",
                Origin = "external",
                InputMapping = renames ? new(mapping) : null,
                Description = upload.Description,
                UploadedBy = upload.Operator,
                ExternalSource = upload.Source,
                FileName = upload.FileName,
                CreatedAt = now,
            });
            await db.SaveChangesAsync(ct);
            var verdict = await registration.DecideAndPromoteAsync(upload.Dataset, new Candidate(version, dataset?.Task, null, null, null, null, null), null, Guid.NewGuid(), upload.Operator, ct);
            db.Record(now, upload.Operator, "upload-model", upload.Dataset, new { version, sha256, size = upload.Model.Length, upload.Source, upload.Description, upload.FileName, inputMapping = mapping, dataStream = features is not null, decision = verdict.Decision, verdict.Reason });
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            result = new UploadResult(true, true, ActionStatus.Registered, $"registered as v{version}; policy: {EnumText<VerdictDecision>.Name(verdict.Decision)} ({verdict.Reason})", version, sha256, verdict.Decision, mapping);
        }

        signal.Notify();
        LogUploaded(upload.Dataset, result.Version, upload.Operator, sha256);
        return result;
    }

    private async Task<UploadResult> RefuseAsync(ExternalUpload upload, ActionStatus status, string message, CancellationToken ct)
    {
        LogRefused(upload.Dataset, upload.Operator, message);
        db.ChangeTracker.Clear();
        db.Record(clock.GetUtcNow(), string.IsNullOrWhiteSpace(upload.Operator) ? "(unknown)" : upload.Operator, "upload-refused", upload.Dataset,
            new { status, reason = message, size = upload.Model.Length, upload.Source, upload.FileName, inputMapping = upload.InputMapping });
        await db.SaveChangesAsync(ct);
        return new UploadResult(false, false, status, message);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Operator} uploaded an external model for {Dataset}: v{Version}, SHA-256 {Sha256}")]
    private partial void LogUploaded(string dataset, int? version, string @operator, string sha256);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused an external model for {Dataset} from {Operator}: {Reason}")]
    private partial void LogRefused(string dataset, string @operator, string reason);
}
