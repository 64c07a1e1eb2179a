using System.Diagnostics.CodeAnalysis;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Ctm.Contracts;

namespace Ctm.ServiceDefaults.Signing;

/// <summary>
/// The exact bytes a signature covers. Each field is length-prefixed (a null has its own marker), so no two
/// different messages share a payload; the first field names the purpose, so a signature over one kind of message
/// never verifies as another.
/// </summary>
public static class SignedPayload
{
    /// <summary>The purpose tag of a promotion's payload.</summary>
    public const string PromotionPurpose = "ctm/model-promoted/v1";

    /// <summary>The purpose tag of an operator's rollback command.</summary>
    public const string RollbackPurpose = "ctm/request-rollback/v1";

    /// <summary>
    /// What the Registry signs for a promotion: dataset, version, generation, the artifact's SHA-256 (case-insensitive hex)
    /// and the input mapping (sorted). The generation is unique per dataset, so a replayed promotion is an old one,
    /// which a replica ignores; the artifact location is not covered because the hash is verified on download.
    /// </summary>
    public static byte[] Promotion(string dataset, int version, long generation, string sha256, IReadOnlyDictionary<string, string>? inputMapping)
    {
        var w = new Writer();
        w.Add(PromotionPurpose);
        w.Add(dataset);
        w.Add(version.ToString(CultureInfo.InvariantCulture));
        w.Add(generation.ToString(CultureInfo.InvariantCulture));
        w.Add(sha256.ToLowerInvariant());
        w.AddCount(inputMapping?.Count);
        foreach (var (input, feature) in inputMapping?.OrderBy(p => p.Key, StringComparer.Ordinal) ?? Enumerable.Empty<KeyValuePair<string, string>>())
        {
            w.Add(input);
            w.Add(feature);
        }

        return w.ToArray();
    }

    /// <summary>What the Registry signs for <paramref name="m"/>.</summary>
    public static byte[] Promotion(ModelPromoted m) => Promotion(m.Dataset, m.Version, m.Generation, m.ArtifactSha256, m.InputMapping);

    /// <summary>
    /// What an operator signs for a rollback: every field but the signature. <see cref="RequestRollback.RequestId"/> is
    /// covered, and the Registry acts on a request id once, so a replayed command has no second effect.
    /// </summary>
    public static byte[] Rollback(RequestRollback m)
    {
        var w = new Writer();
        w.Add(RollbackPurpose);
        w.Add(m.RequestId.ToString("D"));
        w.Add(m.Dataset);
        w.Add(m.TargetVersion?.ToString(CultureInfo.InvariantCulture));
        w.Add(m.CorruptBatchId?.ToString("D"));
        w.AddCount(m.CorruptBatchIds?.Count);
        foreach (var id in m.CorruptBatchIds ?? [])
        {
            w.Add(id.ToString("D"));
        }

        w.Add(m.IngestedFrom?.UtcTicks.ToString(CultureInfo.InvariantCulture));
        w.Add(m.IngestedTo?.UtcTicks.ToString(CultureInfo.InvariantCulture));
        w.Add(m.Upstream);
        w.Add(m.Reason);
        w.Add(m.Operator);
        w.Add(m.Force ? "force" : "no-force");
        w.Add(m.Retrain ? "retrain" : "no-retrain");
        w.Add(m.CorrelationId.ToString("D"));
        return w.ToArray();
    }

    [SuppressMessage("Design", "CA1001", Justification = "A MemoryStream holds only managed memory; its Dispose frees nothing.")]
    private sealed class Writer
    {
        private readonly MemoryStream _stream = new();

        public void Add(string? value)
        {
            if (value is null)
            {
                AddCount(null);
                return;
            }

            var bytes = Encoding.UTF8.GetBytes(value);
            AddCount(bytes.Length);
            _stream.Write(bytes);
        }

        public void AddCount(int? count)
        {
            Span<byte> prefix = stackalloc byte[4];
            BinaryPrimitives.WriteInt32BigEndian(prefix, count ?? -1);
            _stream.Write(prefix);
        }

        public byte[] ToArray() => _stream.ToArray();
    }
}
