using Ctm.ServiceDefaults.Storage;

namespace Ctm.Registry.Storage;

public static class AuditLog
{
    /// <summary>Adds an operator action to the audit log; saved with the caller's other changes, in its transaction.</summary>
    public static void Record(this RegistryDbContext db, DateTimeOffset at, string actor, string action, string dataset, object details) =>
        db.Audit.Add(new AuditEntry { At = at, Actor = actor, Action = action, Dataset = dataset, Details = JsonColumns.Element(details) });
}
