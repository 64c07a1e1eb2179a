namespace Ctm.ServiceDefaults.Auth;

/// <summary>The roles an API key (or token) carries. A key may carry several, comma-separated in its configuration.</summary>
public static class CtmRoles
{
    /// <summary>Sends data: HTTP uploads to Ingest, and reads their receipts.</summary>
    public const string Producer = "producer";

    /// <summary>Changes what the system does: release, discard, roll back, policies, retrain, upload and approve models, re-drive error queues; reads everything.</summary>
    public const string Operator = "operator";

    /// <summary>Queries the services and asks for predictions.</summary>
    public const string Reader = "reader";

    /// <summary>A Ctm service calling another: claim-check fetches (batch rows, artifacts), lineage look-ups, serving statistics.</summary>
    public const string Service = "service";

    /// <summary>Every role, in the order the documentation lists them.</summary>
    public static IReadOnlyList<string> All { get; } = [Producer, Operator, Reader, Service];
}
